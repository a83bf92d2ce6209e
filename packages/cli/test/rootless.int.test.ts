// Rootless builds: a user without privileges, once root has run unpriv-setup for it, builds
// the same images as root, byte for byte, in a user namespace. As root, the suite creates a
// user with no subordinate ids, runs the built CLI as that user (runuser) and removes the
// user (and its /etc/subuid and /etc/subgid lines) afterwards.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxLayout, skopeoManifest, umociUnpack } from '../../engine/test/helpers';
import { cli, rootSkip } from './helpers';
import {
  checkoutForUser,
  createUser,
  removeStaleUsers,
  removeUser,
  rootlessStackerFile,
  type User,
} from './users';

const EPOCH = '1700000000';

/** The CLI as `user` can run it (see checkoutForUser). */
function cliForUser(user: User, dir: string): string {
  const parts = ['node_modules', 'packages/cli', 'packages/engine', 'packages/runner'];
  return join(checkoutForUser(user, dir, parts), 'packages/cli/bin/nx-stacker.js');
}

/** The project in `dir` (created), with the busybox base copied in, owned by `owner`. */
async function writeProject(dir: string, owner?: User): Promise<string> {
  mkdirSync(dir, { recursive: true });
  cpSync(await busyboxLayout(), join(dir, 'base-oci'), { recursive: true });
  writeFileSync(join(dir, 'hello.txt'), 'hello from the host\n');
  writeFileSync(join(dir, 'stacker.yaml'), rootlessStackerFile('base-oci:busybox'));
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
  return dir;
}

/** index.json's manifest digest per tag. */
function tagDigests(ociDir: string): Record<string, string> {
  const index = JSON.parse(readFileSync(join(ociDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const tags: Record<string, string> = {};
  for (const m of index.manifests) {
    const tag = m.annotations?.['org.opencontainers.image.ref.name'];
    if (tag) tags[tag] = m.digest;
  }
  return tags;
}

/** `tar -tvzf` of one layer blob: "mode owner path" per entry. */
function tarListing(ociDir: string, digest: string): string[] {
  const blob = join(ociDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const out = execFileSync('tar', ['--numeric-owner', '-tvzf', blob], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]} ${f[1]} ${f.slice(5).join(' ')}`;
    });
}

describe('rootless builds', { skip: rootSkip() }, () => {
  let base: string;
  let user: User;
  let bin: string;
  let project: string;

  /** Runs the CLI as the test user in `cwd`. */
  const asUser = (args: string[], cwd: string) => {
    const r = spawnSync('runuser', ['-u', user.name, '--', process.execPath, bin, ...args], {
      cwd,
      env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH },
      encoding: 'utf8',
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  /** A project in `name` (the user's) whose one layer is a tar base made by root from a tree. */
  const tarBaseProject = (name: string, fill: (tree: string) => void) => {
    const dir = join(base, name);
    const tree = join(base, `${name}-tree`);
    mkdirSync(tree);
    mkdirSync(dir);
    fill(tree);
    execFileSync('tar', ['-cf', join(dir, 'base.tar'), '-C', tree, '.']);
    writeFileSync(join(dir, 'stacker.yaml'), 'dev:\n  from:\n    type: tar\n    url: base.tar\n');
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
    return dir;
  };

  before(async () => {
    removeStaleUsers('nxsrl');
    // In /tmp itself (not $TMPDIR): the user must be able to reach it.
    base = mkdtempSync('/tmp/nx-stacker-rootless-');
    chmodSync(base, 0o755);
    user = createUser(`nxsrl-${process.pid}`);
    bin = cliForUser(user, base);
    project = await writeProject(join(base, 'user-project'), user);
  });

  after(() => {
    if (user) removeUser(user.name);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('without subordinate ids, check and build say how to get them', () => {
    const check = asUser(['check'], project);
    assert.equal(check.status, 1, check.stderr);
    assert.match(
      check.stderr,
      /^ok: running as uid \d+: builds run rootless, in a user namespace/m,
    );
    assert.match(check.stderr, /^ok: \S+\/newuidmap is setuid root$/m);
    assert.match(check.stderr, /^ok: unprivileged user namespaces are enabled$/m);
    assert.match(
      check.stderr,
      new RegExp(`^problem: /etc/subuid .*${user.name}.*no subordinate`, 'm'),
    );
    assert.match(check.stderr, /^ {2}hint: as root: nx-stacker unpriv-setup --username nxsrl-/m);
    assert.match(check.stderr, /^problem: whiteouts, overlay mounts and containers .*not checked/m);

    const build = asUser(['build'], project);
    assert.equal(build.status, 1, build.stderr);
    assert.match(build.stderr, /no idmap and not root, can't run nx-stacker as nxsrl-/);
    assert.match(build.stderr, /hint: ask an administrator to run "sudo nx-stacker unpriv-setup/);
  });

  test('unpriv-setup grants subordinate ids and hands the storage dirs to the user', () => {
    const args = ['unpriv-setup', '--uid', `${user.uid}`, '--gid', `${user.gid}`];
    const r = cli([...args, '--username', user.name], project);
    assert.equal(r.status, 0, r.stderr);
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const line = new RegExp(`^${user.name}:(\\d+):65536$`, 'm');
      assert.match(readFileSync(file, 'utf8'), line, file);
      assert.match(r.stderr, new RegExp(`added ${user.name}:\\d+:65536 to ${file}`));
    }
    for (const dir of ['.stacker', 'roots']) {
      assert.equal(statSync(join(project, dir)).uid, user.uid, dir);
    }

    const again = cli([...args, '--username', user.name], project);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /stacker dir .*\/\.stacker already exists, aborting setup/);
  });

  test('check then finds every rootless prerequisite, and overlayfs and LXC working', () => {
    const r = asUser(['check'], project);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^ok: /etc/subgid grants ${user.name} 65536 `, 'm'));
    assert.match(r.stderr, /^ok: overlay whiteouts \(0:0 character devices\) can be created/m);
    assert.match(r.stderr, /^ok: overlayfs \(userxattr\) mounts in .* liblxc starts containers/m);
  });

  test("the user's build is byte for byte root's: run step, chown, whiteout", async (t) => {
    const built = asUser(['build'], project);
    assert.equal(built.status, 0, built.stderr);
    const rootProject = await writeProject(join(base, 'root-project'));
    const reference = cli(['build'], rootProject);
    assert.equal(reference.status, 0, reference.stderr);

    // Same manifests, so the same configs and layers.
    const ours = tagDigests(join(project, 'oci'));
    assert.deepEqual(ours, tagDigests(join(rootProject, 'oci')));
    assert.deepEqual(Object.keys(ours).sort(), ['app', 'base']);

    // What the layers hold, read by tar.
    const layers = skopeoManifest(join(project, 'oci'), 'app').layers.map((l) => l.digest);
    const [baseLayer, appLayer] = layers.slice(-2).map((d) => tarListing(join(project, 'oci'), d));
    assert.ok(baseLayer?.includes('-rw-r--r-- 1000/1000 owned'), baseLayer?.join('\n'));
    assert.ok(
      baseLayer?.some((e) => e.endsWith(' bin/.wh.vi')),
      baseLayer?.join('\n'),
    );
    assert.ok(appLayer?.includes('-rw-r--r-- 0/0 app'), appLayer?.join('\n'));

    // And the image as umoci unpacks it.
    const rootfs = umociUnpack(t, join(project, 'oci'), 'app');
    assert.equal(readFileSync(join(rootfs, 'app'), 'utf8'), 'app\n');
    assert.equal(statSync(join(rootfs, 'owned')).uid, 1000);
    assert.throws(() => statSync(join(rootfs, 'bin', 'vi')), /ENOENT/);
  });

  test('a root build refuses the storage a rootless build wrote', () => {
    const r = cli(['build'], project);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /previous run of nx-stacker found with uid \d+: .* belongs to uid/);
    assert.match(r.stderr, /hint: root and rootless builds cannot share storage/);
  });

  test('a device node a user namespace cannot create becomes an empty file, with a warning', () => {
    const dir = tarBaseProject('devices', (tree) => {
      mkdirSync(join(tree, 'dev'));
      execFileSync('mknod', ['-m', '666', join(tree, 'dev', 'null'), 'c', '1', '3']);
    });

    const r = asUser(['build'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: .*'dev\/null' \(c 1:3\) is an empty file instead/);
    const [layer] = skopeoManifest(join(dir, 'oci'), 'dev').layers.map((l) => l.digest);
    assert.ok(tarListing(join(dir, 'oci'), layer as string).includes('-rw-rw-rw- 0/0 dev/null'));
  });

  test('an owner beyond the subordinate ids is named, not "invalid argument"', () => {
    const dir = tarBaseProject('big-ids', (tree) => {
      writeFileSync(join(tree, 'file'), 'x\n');
      execFileSync('chown', ['70000:70000', join(tree, 'file')]);
    });
    const r = asUser(['build'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /owner 70000:70000 has no id in this user namespace/);
  });
});
