import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ownerTag } from '../../src/util/process';
import {
  blobPath,
  buildIn,
  busyboxLayout,
  errorOf,
  fromBusybox,
  mountsUnder,
  projectDir,
  readManifest,
  requireRoot,
  skopeoManifest,
  tagDigest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';

/** `first` on busybox, and `second` on it running `run`. */
async function project(dir: string, run: string): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
first:
${await fromBusybox()}
  run: echo first > /first
second:
  from:
    type: built
    tag: first
  run: ${run}
`,
  });
}

test('a failing run step fails with a located error and leaves nothing mounted', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, 'echo good > /good');
  await buildIn(dir);
  const before = tagDigest(join(dir, 'oci'), 'second');

  await project(dir, '"false"');
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /run commands failed for image "second"/);
  assert.match(err.message, /exit status 1/);
  assert.equal(err.where.layer, 'second');
  assert.ok(err.where.line, 'names the line of the run directive');

  assert.deepEqual(mountsUnder(dir), [], 'nothing mounted');
  assert.equal(tagDigest(join(dir, 'oci'), 'second'), before, 'previous image intact');
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'second');
  assert.ok(existsSync(join(rootfs, 'good')));

  // The next build, with the step fixed, works.
  await project(dir, 'echo fixed > /fixed');
  const { summary } = await buildIn(dir);
  assert.equal(summary.layers[1]?.status, 'built');
  assert.ok(existsSync(join(umociUnpack(t, join(dir, 'oci'), 'second'), 'fixed')));
});

test('an aborted build kills the container, leaves nothing mounted and no new tag', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, 'sleep 30');
  const controller = new AbortController();
  const started = Date.now();
  const pending = buildIn(dir, { signal: controller.signal }).catch((e: unknown) => e);
  // Abort once the container is running (first layer built, second started).
  while (!existsSync(join(dir, 'roots/second/work'))) {
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(Date.now() - started < 20000, 'second layer started');
  }
  await new Promise((r) => setTimeout(r, 500));
  controller.abort();
  const err = await pending;
  assert.ok(err instanceof Error);
  assert.ok(Date.now() - started < 20000, 'did not wait for the sleep');
  assert.deepEqual(mountsUnder(dir), []);
  assert.equal(tagDigest(join(dir, 'oci'), 'second'), undefined);
  assert.ok(tagDigest(join(dir, 'oci'), 'first'), 'first layer was tagged');
});

test("a build removes the half-written files of killed builds, not a live writer's", async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, 'echo second > /second');
  await buildIn(dir);

  // Temp names carry their writer as <pid>.<start>: a pid that ran and ended is dead.
  const dead = `${spawnSync('true').pid}.1`;
  const planted = {
    index: join(dir, 'oci', `.index.json.tmp-${dead}-0a1b2c`),
    entry: join(dir, '.stacker/cache', `.abc.json.tmp-${dead}-0a1b2c`),
    metadata: join(dir, 'roots/second', `.overlay_metadata.json.tmp-${dead}-0a1b2c`),
    layout: join(dir, `.oci.tmp-${dead}-0a1b2c`),
    live: join(dir, 'oci', `.index.json.tmp-${ownerTag()}-0a1b2c`),
  };
  for (const [name, path] of Object.entries(planted)) {
    if (name === 'layout') mkdirSync(join(path, 'blobs'), { recursive: true });
    else writeFileSync(path, '{"half');
  }
  await buildIn(dir);
  for (const name of ['index', 'entry', 'metadata', 'layout'] as const) {
    assert.equal(existsSync(planted[name]), false, `${name} temp removed`);
  }
  assert.ok(existsSync(planted.live), "a live process's temp file is left to it");
});

test('bad input gives a located error and leaves existing images untouched', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, 'echo ok > /ok');
  await buildIn(dir);
  const index = readdirSync(join(dir, 'oci/blobs/sha256')).length;
  const before = tagDigest(join(dir, 'oci'), 'second');

  writeFileSync(
    join(dir, 'stacker.yaml'),
    'first:\n  from:\n    type: oci\n    url: nowhere:busybox\n  runn: echo typo\n',
  );
  const err = await errorOf(buildIn(dir));
  assert.match(err.format(), /stacker\.yaml:5/);
  assert.match(err.format(), /runn/);
  assert.equal(tagDigest(join(dir, 'oci'), 'second'), before);
  assert.equal(readdirSync(join(dir, 'oci/blobs/sha256')).length, index);
});

test('an oci base whose layer blob is missing is named, before anything is extracted', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  cpSync(await busyboxLayout(), join(dir, 'base'), { recursive: true });
  const layer = readManifest(join(dir, 'base'), 'busybox').layers[0]!.digest;
  rmSync(blobPath(join(dir, 'base'), layer));
  writeFiles(dir, { 'stacker.yaml': 'a:\n  from:\n    type: oci\n    url: base:busybox\n' });
  const err = await errorOf(buildIn(dir));
  assert.match(
    err.message,
    new RegExp(`image busybox in .*/base is incomplete: layer blob ${layer} is missing`),
  );
  assert.equal(err.where.layer, 'a');
  assert.ok(err.where.file?.endsWith('stacker.yaml') && err.where.line, 'located in the file');
  assert.match(err.hint ?? '', /copy the image into the layout again/);
});

test('build_only layers are not tagged; layers built on them carry their content', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
tools:
${await fromBusybox()}
  build_only: true
  run: echo built-only > /tool
app:
  from:
    type: built
    tag: tools
  run: echo app > /app
`,
  });
  const { summary, oci } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => [l.name, l.status, l.buildOnly]),
    [
      ['tools', 'built', true],
      ['app', 'built', false],
    ],
  );
  assert.equal(tagDigest(oci, 'tools'), undefined, 'build_only layer not tagged');
  const rootfs = umociUnpack(t, oci, 'app');
  assert.ok(existsSync(join(rootfs, 'tool')));
  assert.ok(existsSync(join(rootfs, 'app')));
  // busybox + one layer for tools' and app's diffs (stacker has one each; see collapse.ts).
  assert.equal(skopeoManifest(oci, 'app').layers.length, 2);

  const again = await buildIn(dir);
  assert.deepEqual(
    again.summary.layers.map((l) => l.status),
    ['reused', 'reused'],
  );
});

test('--on-run-failure runs its command in the failed container, then fails', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, 'echo partial > /partial; false');
  const err = await errorOf(buildIn(dir, { onRunFailure: 'sh -c "ls /partial > /inspected"' }));
  assert.match(err.message, /run commands failed/);
  // The command ran on the same upper dir, after the failed step.
  const upper = join(dir, 'roots/second/overlay');
  assert.equal(readFileSync(join(upper, 'inspected'), 'utf8'), '/partial\n');
  assert.deepEqual(mountsUnder(dir), []);
});

test('a run step on scratch (no shell) fails with a hint about the interpreter', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': 'empty:\n  from:\n    type: scratch\n  run: echo hi\n',
  });
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /exit status 255/);
  assert.match(err.hint ?? '', /interpreter/);
  assert.deepEqual(mountsUnder(dir), []);
});
