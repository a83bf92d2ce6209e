/**
 * Sharing image builds through Nx's own remote cache (NX_SELF_HOSTED_REMOTE_CACHE_SERVER):
 * workspace A builds and uploads; a fresh clone B, with an empty local cache and no engine
 * state, gets every layer from the remote cache, assembles the same image byte for byte, and
 * then rebuilds only the layer it changed, on parents restored from their task outputs.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CacheServer, startCacheServer } from './fixtures/cache-server';
import {
  cloneWorkspace,
  createStackerWorkspace,
  requireRoot,
  type StackerWorkspace,
  taskResults,
  tasksRun,
  treeContents,
} from './fixtures/stacker-workspace';

const IMAGE = `
os:
  from:
    type: oci
    url: ../base/oci:busybox
  run: echo os > /etc/os-name
tools:
  from:
    type: built
    tag: os
  build_only: true
  imports:
    - motd
  run: cp /stacker/imports/motd /etc/motd
app:
  from:
    type: built
    tag: tools
  run: echo app > /app.txt
`;

const LAYERS = ['image:app', 'image:os', 'image:tools'];
const TOKEN = 'team-secret';

describe('remote cache shared by two checkouts', () => {
  let server: CacheServer;
  let a: StackerWorkspace;
  let b: StackerWorkspace;
  let remote: NodeJS.ProcessEnv;
  let skip = false;
  const cleanups: (() => void)[] = [];

  before(async () => {
    if (process.geteuid?.() !== 0 && !process.env.CI) {
      skip = true;
      return;
    }
    server = await startCacheServer({ token: TOKEN });
    remote = {
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: TOKEN,
    };
    const t = { after: (fn: () => void) => cleanups.push(fn) };
    a = createStackerWorkspace(t, { 'image/stacker.yaml': IMAGE, 'image/motd': 'welcome\n' });
    b = cloneWorkspace(t, a);
  });
  after(async () => {
    for (const cleanup of cleanups) cleanup();
    await server?.close();
  });

  test('workspace A builds every layer and uploads each task to the remote cache', async (t) => {
    if (skip || !requireRoot(t)) return;
    const output = await a.nxOkAsync(['run', 'image:build'], remote);
    assert.deepEqual(tasksRun(output), ['base:build', 'image:build', ...LAYERS].sort());
    const puts = server.requests.filter((r) => r.method === 'PUT' && r.status === 200);
    assert.equal(puts.length, 4, 'one upload per cacheable task: the base and three layers');
  });

  test('a fresh clone gets every layer from the remote cache without building', async (t) => {
    if (skip || !requireRoot(t)) return;
    assert.ok(!existsSync(join(b.root, '.nx-stacker')), 'the clone has no engine state');
    const output = await b.nxOkAsync(['run', 'image:build'], remote);
    const results = taskResults(output);
    for (const id of ['base:build', ...LAYERS]) assert.equal(results.get(id), 'remote cache', id);
    assert.deepEqual(tasksRun(output), ['image:build']);
    assert.ok(!existsSync(join(b.root, '.nx-stacker/roots')), 'no layer was extracted or built');
  });

  test('the OCI layout the clone assembles is byte-identical to the original', async (t) => {
    if (skip || !requireRoot(t)) return;
    const original = treeContents(join(a.root, 'dist/stacker/image/oci'));
    const restored = treeContents(join(b.root, 'dist/stacker/image/oci'));
    assert.deepEqual([...restored.keys()].sort(), [...original.keys()].sort());
    for (const [path, bytes] of original) assert.ok(bytes.equals(restored.get(path)!), path);
  });

  test('a change to the top layer in the clone builds just it, on restored parents', async (t) => {
    if (skip || !requireRoot(t)) return;
    b.write('image/stacker.yaml', IMAGE.replace('echo app > /app.txt', 'echo changed > /app.txt'));
    const output = await b.nxOkAsync(['run', 'image:build'], remote);
    assert.deepEqual(tasksRun(output), ['image:app', 'image:build']);
    // The app task restores its parents from their (cache-restored) outputs without a line
    // of its own about them; the lines about building them are Nx replaying their cached logs.
    const app = output.slice(
      output.indexOf('> nx run image:app'),
      output.indexOf('> nx run image:build'),
    );
    assert.match(app, /app: building \(/);
    assert.doesNotMatch(app, /(os|tools): building/);
  });
});
