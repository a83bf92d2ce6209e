/**
 * Publishing from Nx, end to end: a workspace builds a two-layer image with `nx run
 * img:build`, then pushes it to a real registry (Debian's docker-registry on loopback, with
 * htpasswd auth) with `nx run img:publish` and with `nx release publish`, credentials coming
 * from the environment. skopeo then reads each tag back: its digest must be the one in the
 * assembled OCI layout. The tests run in order on one workspace.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  freePort,
  skopeoDigest,
  startRegistry,
  type TestRegistry,
  writeAuthFile,
} from '../packages/engine/test/registry/fixtures';
import {
  createStackerWorkspace,
  requireRoot,
  type StackerWorkspace,
  tasksRun,
} from './fixtures/stacker-workspace';

const IMAGE = `
base:
  from:
    type: oci
    url: ../base/oci:busybox
  run: echo base > /base.txt
app:
  from:
    type: built
    tag: base
  run: echo app > /app.txt
`;

/** The plugin's version actions, as a workspace that installed it names them. */
const VERSION_ACTIONS = 'nx-stacker/release/version-actions';

const USER = 'nx-publisher';
const PASSWORD = 'registry-password-e2e-4711';
const CREDENTIALS = { NX_STACKER_PUBLISH_USERNAME: USER, NX_STACKER_PUBLISH_PASSWORD: PASSWORD };

describe('publishing images from Nx', () => {
  let registry: TestRegistry;
  let ws: StackerWorkspace;
  let authFile: string;
  let skip = false;
  const cleanups: (() => void)[] = [];
  /** Every output of every nx command, to check that no credential ever shows. */
  const outputs: string[] = [];

  before(async () => {
    if (process.geteuid?.() !== 0 && !process.env.CI) {
      skip = true;
      return;
    }
    registry = await startRegistry({ auth: { user: USER, password: PASSWORD } });
    const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-publish-auth-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    authFile = writeAuthFile(dir, { [registry.host]: { user: USER, password: PASSWORD } });

    const url = `docker://${registry.host}/team`;
    ws = createStackerWorkspace(
      { after: (fn) => cleanups.push(fn) },
      { 'img/stacker.yaml': IMAGE },
      { publish: { url, tags: ['latest'], skipTls: true } },
    );
    // nx release loads version actions for every project it releases, even to publish only;
    // the plugin's know that images keep no version on disk.
    const nxJson = JSON.parse(ws.read('nx.json'));
    const release = { projects: ['img'], version: { versionActions: VERSION_ACTIONS } };
    ws.write('nx.json', { ...nxJson, release });
  });
  after(async () => {
    for (const cleanup of cleanups) cleanup();
    await registry?.stop();
  });

  const nx = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = ws.nx(args, { ...CREDENTIALS, ...env });
    outputs.push(result.output);
    return result;
  };
  const nxOk = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = nx(args, env);
    assert.equal(result.status, 0, `nx ${args.join(' ')}:\n${result.output}`);
    return result.output;
  };

  /** The manifest digest of a layer's image in the layout the build target assembled. */
  const localDigest = (layer: string) => {
    const dir = join(ws.root, 'dist/stacker/img/oci');
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci:${dir}:${layer}`]);
    return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  };
  const assertPublished = async (tag: string) => {
    for (const layer of ['base', 'app']) {
      const remote = await skopeoDigest(registry, `team/${layer}:${tag}`, authFile);
      assert.equal(remote, localDigest(layer), `team/${layer}:${tag}`);
    }
  };

  test('each image project has publish and nx-release-publish targets', (t) => {
    if (skip || !requireRoot(t)) return;
    const project = JSON.parse(nxOk(['show', 'project', 'img', '--json']));
    for (const name of ['publish', 'nx-release-publish']) {
      assert.equal(project.targets[name].executor, 'nx-stacker:publish');
      assert.deepEqual(project.targets[name].dependsOn, ['build']);
    }
  });

  test('nx run img:publish builds first, then pushes every layer under its tags', async (t) => {
    if (skip || !requireRoot(t)) return;
    nxOk(['run', 'img:build']);
    // 2.10, not 2.1: Nx parses the override as a number, the executor reads it as typed.
    const output = nxOk(['run', 'img:publish', '--tag=2.10']);
    // The build ran again (it is never cached); its layers came from the cache.
    assert.deepEqual(tasksRun(output), ['img:build']);
    assert.match(output, /nx run img:publish --tag=2.10/);
    assert.match(output, new RegExp(`publishing to docker://${registry.host}/team`));
    assert.match(output, /published 4 image\(s\)/);
    await assertPublished('latest');
    await assertPublished('2.10');
  });

  test('nx release publish tags with its --tag and with the version it was given', async (t) => {
    if (skip || !requireRoot(t)) return;
    // Publishing alone needs no git: the workspace is not even a repository any more.
    rmSync(join(ws.root, '.git'), { recursive: true, force: true });
    const output = nxOk(['release', 'publish', '--dry-run=false', '--tag=1.0.0-rc']);
    assert.match(output, /nx run img:nx-release-publish/);
    await assertPublished('1.0.0-rc');

    // `nx release` hands the versions it resolved to the publish step. Nx's programmatic API,
    // as a release script calls it, takes the same path without versioning from git history.
    ws.write(
      'release.js',
      [
        "const { releasePublish } = require('nx/release');",
        'const versionData = { img: { currentVersion: "2.0.0", newVersion: "2.1.0" } };',
        'releasePublish({ dryRun: false, versionData }).then(',
        '  (r) => process.exit(Object.values(r).every((p) => p.code === 0) ? 0 : 1),',
        '  (e) => { console.error(e); process.exit(1); },',
        ');',
      ].join('\n'),
    );
    const run = execFileSync(process.execPath, ['release.js'], {
      cwd: ws.root,
      env: { ...ws.env, ...CREDENTIALS },
      encoding: 'utf8',
    });
    outputs.push(run);
    await assertPublished('2.1.0');
    await assertPublished('latest');
  });

  test('layers restored from the Nx cache, unknown to the engine, are published', async (t) => {
    if (skip || !requireRoot(t)) return;
    // As on a fresh CI machine with a remote cache: no engine state, no outputs.
    rmSync(join(ws.root, '.nx-stacker'), { recursive: true, force: true });
    rmSync(join(ws.root, 'dist'), { recursive: true, force: true });
    const output = nxOk(['run', 'img:publish', '--tag=from-cache']);
    assert.deepEqual(tasksRun(output), ['img:build'], 'no layer was built');
    await assertPublished('from-cache');
  });

  test('an unreachable registry fails the task with a message naming the url', async (t) => {
    if (skip || !requireRoot(t)) return;
    const url = `docker://127.0.0.1:${await freePort()}/team`;
    const result = nx(['run', 'img:publish', `--url=${url}`]);
    assert.notEqual(result.status, 0);
    assert.match(result.output, new RegExp(`error: .*publishing to ${url} failed: `));
    assert.match(result.output, /couldn't reach registry 127\.0\.0\.1:\d+/);
  });

  test('no output ever shows the user name or the password', (t) => {
    if (skip || !requireRoot(t)) return;
    assert.ok(outputs.length >= 4);
    for (const output of outputs) {
      assert.ok(!output.includes(PASSWORD), output);
      assert.ok(!output.includes(USER), output);
    }
  });
});
