/**
 * The Nx plugin without root: a user with subordinate ids runs `nx run app:build` and gets
 * the image root's CLI builds from the same file, layer for layer; every task builds in a
 * user namespace, as the CLI does. As root, the suite creates the user (removed afterwards),
 * gives it a workspace (chown) and runs Nx as that user with runuser. The tests run in order
 * on one workspace, each starting from the state the previous one left.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { cli } from '../packages/cli/test/helpers';
import {
  checkoutForUser,
  createUser,
  grantSubordinateIds,
  removeStaleUsers,
  removeUser,
  rootlessStackerFile,
  type User,
} from '../packages/cli/test/users';
import {
  createStackerWorkspace,
  type NxRun,
  requireRoot,
  type StackerWorkspace,
  taskResults,
  tasksRun,
} from './fixtures/stacker-workspace';

/** A layer that marks its start in a bind-mounted dir, then runs until it is stopped. */
const SLOW = (sync: string) => `
slow:
  from:
    type: oci
    url: ../base/oci:busybox
  binds:
    - ${sync} -> /sync
  run: |
    touch /sync/started
    sleep 60
`;

/** What a workspace that installed the plugin from a checkout needs of it. */
const PLUGIN_PARTS = [
  'package.json',
  'executors.json',
  'generators',
  'scripts',
  'node_modules',
  'packages/cli',
  'packages/engine',
  'packages/nx-plugin',
  'packages/runner',
];

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

/**
 * Per tag, what an image is made of: config and layer digests, and the manifest's annotations
 * but the two the CLI writes and Nx builds leave out (the whole file, the commit).
 */
function imagesByTag(ociDir: string): Record<string, unknown> {
  const images: Record<string, unknown> = {};
  for (const [tag, digest] of Object.entries(tagDigests(ociDir))) {
    const blob = join(ociDir, 'blobs/sha256', digest.slice('sha256:'.length));
    const manifest = JSON.parse(readFileSync(blob, 'utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
      annotations?: Record<string, string>;
    };
    const annotations = { ...manifest.annotations };
    delete annotations['io.stackeroci.stacker.stacker_yaml'];
    delete annotations['io.stackeroci.stacker.git_version'];
    images[tag] = {
      config: manifest.config.digest,
      layers: manifest.layers.map((l) => l.digest),
      annotations,
    };
  }
  return images;
}

describe('nx-stacker in an Nx workspace, without root', () => {
  let ws: StackerWorkspace;
  let user: User;
  let base: string;
  /** A clone of the workspace, for root's reference build. */
  let reference: string;
  let skip = false;
  const cleanups: (() => void)[] = [];

  /** `nx <args>` in the workspace, run by the test user. */
  const nxAsUser = (args: string[]): NxRun => {
    const nx = join(ws.root, 'node_modules/.bin/nx');
    const r = spawnSync('runuser', ['-u', user.name, '--', nx, ...args], {
      cwd: ws.root,
      env: ws.env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status, output: stripVTControlCharacters(`${r.stdout}${r.stderr}`) };
  };

  before(() => {
    if (process.geteuid?.() !== 0 && !process.env.CI) {
      skip = true;
      return;
    }
    removeStaleUsers('nxsnx');
    // In /tmp itself (not $TMPDIR): the user must be able to reach it.
    base = mkdtempSync('/tmp/nx-stacker-nx-rootless-');
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    reference = join(base, 'reference');
    execFileSync('chmod', ['755', base]);
    user = createUser(`nxsnx-${process.pid}`);
    cleanups.unshift(() => removeUser(user.name));

    const plugin = checkoutForUser(user, base, PLUGIN_PARTS);
    ws = createStackerWorkspace(
      { after: (fn) => cleanups.push(fn) },
      {
        'app/stacker.yaml': rootlessStackerFile('../base/oci:busybox'),
        'app/hello.txt': 'hello from the host\n',
      },
      {},
      { plugin },
    );
    // Root's reference build happens in a clone. Cloned now, while root still owns the
    // workspace.
    execFileSync('git', ['clone', '-q', ws.root, reference]);
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, ws.root]);
  });
  after(() => {
    // Whatever a failed test left running as the user (userdel refuses a user with any).
    const left = user ? userProcesses(user) : [];
    for (const line of left) process.kill(Number.parseInt(line, 10), 'SIGKILL');
    for (const cleanup of cleanups) cleanup();
  });

  test("without subordinate ids, the build fails with the engine's message and hint", (t) => {
    if (skip || !requireRoot(t)) return;
    const r = nxAsUser(['run', 'app:build']);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error: .*no idmap and not root, can't run nx-stacker as nxsnx-\d+/);
    assert.match(r.output, /hint: ask an administrator to run "sudo nx-stacker unpriv-setup/);
    assert.doesNotMatch(r.output, /^\s+at .*\.js:\d+/m, 'no stack trace');
  });

  test("with them, the user's image is the one root's CLI builds, layer for layer", (t) => {
    if (skip || !requireRoot(t)) return;
    grantSubordinateIds(user);
    const r = nxAsUser(['run', 'app:build']);
    assert.equal(r.status, 0, r.output);
    // base:build (a plain command writing the busybox base) succeeded in the previous test.
    assert.deepEqual(tasksRun(r.output), ['app:app', 'app:base', 'app:build']);
    const oci = join(ws.root, 'dist/stacker/app/oci');
    assert.equal(statSync(join(oci, 'index.json')).uid, user.uid, "the image is the user's");

    // Root builds the same file with the CLI in its clone, next to the same busybox base.
    cpSync(join(ws.root, 'base/oci'), join(reference, 'base/oci'), { recursive: true });
    const built = cli(['build'], join(reference, 'app'));
    assert.equal(built.status, 0, built.stderr);
    const images = imagesByTag(oci);
    assert.deepEqual(Object.keys(images).sort(), ['app', 'base']);
    assert.deepEqual(images, imagesByTag(join(reference, 'app/oci')));
  });

  test("a second run restores every layer from Nx's cache", (t) => {
    if (skip || !requireRoot(t)) return;
    const r = nxAsUser(['run', 'app:build']);
    assert.equal(r.status, 0, r.output);
    const results = taskResults(r.output);
    for (const id of ['app:base', 'app:app', 'base:build']) {
      assert.equal(results.get(id), 'local cache', id);
    }
  });

  test('without batch mode, each task builds in a user namespace too', (t) => {
    if (skip || !requireRoot(t)) return;
    const r = nxAsUser(['run', 'app:build', '--batch=false', '--skip-nx-cache']);
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(tasksRun(r.output), ['app:app', 'app:base', 'app:build', 'base:build']);
    // The engine's own cache, in the user's storage, still has both layers.
    assert.match(r.output, /✔ base reused/);
    assert.match(r.output, /✔ app reused/);
  });

  test('the user publishes the assembled image', (t) => {
    if (skip || !requireRoot(t)) return;
    const args = ['run', 'app:publish', '--url=oci:published', '--tags=v1'];
    const r = nxAsUser(args);
    assert.equal(r.status, 0, r.output);
    const published = tagDigests(join(ws.root, 'published'));
    const assembled = tagDigests(join(ws.root, 'dist/stacker/app/oci'));
    assert.deepEqual(published, { app_v1: assembled.app, base_v1: assembled.base });
  });

  test('interrupting Nx stops the build in the user namespace, container and all', async (t) => {
    if (skip || !requireRoot(t)) return;
    const sync = join(base, 'sync');
    mkdirSync(sync);
    execFileSync('chown', [`${user.uid}:${user.gid}`, sync]);
    ws.write('slow/stacker.yaml', SLOW(sync));
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, join(ws.root, 'slow')]);

    const nx = join(ws.root, 'node_modules/.bin/nx');
    const child = spawn('runuser', ['-u', user.name, '--', nx, 'run', 'slow:build'], {
      cwd: ws.root,
      env: ws.env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    for (let i = 0; i < 600 && !existsSync(join(sync, 'started')); i++) await sleep(100);
    assert.ok(existsSync(join(sync, 'started')), 'the layer started');

    // SIGINT to Nx alone (runuser's child): it must reach the build through the executor
    // and the runner.
    const pgrep = spawnSync('pgrep', ['-P', `${child.pid}`], { encoding: 'utf8' });
    const nxPid = Number(pgrep.stdout.split('\n')[0]);
    assert.ok(nxPid > 0, 'nx is running');
    process.kill(nxPid, 'SIGINT');
    await exited;
    for (let i = 0; i < 100 && userProcesses(user).length > 0; i++) await sleep(100);
    assert.deepEqual(userProcesses(user), [], 'no process of the user is left');
  });

  test("root's build refuses the storage the user's builds wrote", (t) => {
    if (skip || !requireRoot(t)) return;
    // Root last: Nx run by root leaves its own files in the workspace.
    const r = ws.nx(['run', 'app:build', '--skip-nx-cache', '--exclude-task-dependencies']);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /previous run of nx-stacker found with uid \d+: .*\.nx-stacker/);
    assert.match(
      r.output,
      /hint: root and rootless builds cannot share a workspace's \.nx-stacker/,
    );
  });
});

/** The command lines of the processes `user` runs. */
function userProcesses(user: User): string[] {
  const r = spawnSync('pgrep', ['-a', '-u', `${user.uid}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
