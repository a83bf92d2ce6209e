/**
 * A layer published on build_only layers ships one layer for the whole chain, so what the
 * chain wrote and a later layer deleted never reaches the image (stacker's "wart" is gone).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { LayerOutcome } from '../../src/build/context';
import {
  buildIn,
  busyboxLayout,
  fromBusybox,
  type LayerDesc,
  projectDir,
  readManifest,
  requireRoot,
  skopeoConfig,
  tagDigest,
  tempDir,
  umociUnpack,
} from '../helpers';
import { blobEntries } from './helpers';

const MiB = 1024 * 1024;

function outcome(layers: LayerOutcome[], name: string): LayerOutcome {
  const found = layers.find((l) => l.name === name);
  assert.ok(found, `layer ${name} not in the summary`);
  return found;
}

/** The documented example: a build_only layer writes a big file, its child removes it. */
async function bigFileProject(t: TestContext, appRun = 'rm /big\n    echo app > /app') {
  return projectDir(t, {
    'stacker.yaml': `
tools:
${await fromBusybox()}
  build_only: true
  run: |
    head -c ${20 * MiB} /dev/urandom > /big
    mkdir -p /opt/tool
    echo tool > /opt/tool/bin
app:
  from:
    type: built
    tag: tools
  run: |
    ${appRun}
`,
  });
}

/** Asserts that `app` is busybox plus one small layer holding the chain's lasting changes. */
async function assertCollapsed(t: TestContext, oci: string): Promise<void> {
  const busybox = readManifest(await busyboxLayout(), 'busybox').layers[0];
  const app = readManifest(oci, 'app');
  assert.equal(app.layers.length, 2, 'busybox + one layer for tools and app');
  assert.equal(app.layers[0]?.digest, busybox?.digest);
  const own = app.layers[1] as LayerDesc;
  assert.ok(own.size < 16 * 1024, `the layer is ${own.size} bytes`);
  const names = blobEntries(oci, own.digest);
  assert.ok(names.includes('opt/tool/bin'), 'what tools wrote and app kept ships');
  assert.ok(!names.some((n) => n.includes('big')), 'neither the file nor a whiteout for it');

  const rootfs = umociUnpack(t, oci, 'app');
  assert.ok(!existsSync(join(rootfs, 'big')));
  assert.equal(readFileSync(join(rootfs, 'opt/tool/bin'), 'utf8'), 'tool\n');
  assert.equal(readFileSync(join(rootfs, 'app'), 'utf8'), 'app\n');
  assert.ok(existsSync(join(rootfs, 'bin/busybox')));
}

test('a file a build_only layer writes and its child deletes does not ship', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await bigFileProject(t);
  const { summary, oci } = await buildIn(dir);

  // The build_only layer's own image still has the file; the child's image does not.
  const tools = readManifest(oci, outcome(summary.layers, 'tools').manifest.digest);
  assert.ok((tools.layers[1]?.size ?? 0) > 20 * MiB);
  await assertCollapsed(t, oci);

  // The config describes exactly the layers of the manifest.
  const config = skopeoConfig(oci, 'app');
  assert.equal(config.rootfs.diff_ids.length, 2);
  const createdBy = (config.history ?? []).map((h) => h.created_by ?? '');
  assert.ok(!createdBy.some((c) => c.includes('of tools')), createdBy.join(', '));
  assert.ok(createdBy.includes('stacker build of app'));
});

test("the chain's deletions of ancestor files and its opaque dirs stay in the child", async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
base:
${await fromBusybox()}
  run: |
    mkdir -p /data/old
    echo old > /data/old/file
    echo keep > /data/keep
tools:
  from:
    type: built
    tag: base
  build_only: true
  run: |
    rm /bin/vi /data/keep
    rm -rf /data/old
    mkdir /data/old
    echo new > /data/old/new
    echo temporary > /data/temporary
app:
  from:
    type: built
    tag: tools
  run: |
    rm /data/temporary
    echo app > /app
`,
  });
  const { oci } = await buildIn(dir);

  const base = readManifest(oci, 'base');
  const app = readManifest(oci, 'app');
  assert.equal(app.layers.length, base.layers.length + 1);
  assert.deepEqual(app.layers.slice(0, -1), base.layers, 'starts with the ancestor, base');
  const names = blobEntries(oci, app.layers.at(-1)?.digest ?? '');
  for (const kept of ['bin/.wh.vi', 'data/.wh.keep', 'data/old/.wh..wh..opq', 'data/old/new']) {
    assert.ok(names.includes(kept), `${kept} in ${names.join(' ')}`);
  }
  assert.ok(!names.some((n) => n.includes('temporary')), 'created and deleted in the chain');

  const rootfs = umociUnpack(t, oci, 'app');
  assert.ok(!existsSync(join(rootfs, 'bin/vi')));
  assert.ok(existsSync(join(rootfs, 'bin/sh')));
  assert.ok(!existsSync(join(rootfs, 'data/keep')));
  assert.ok(!existsSync(join(rootfs, 'data/old/file')), 'the opaque dir hides base content');
  assert.equal(readFileSync(join(rootfs, 'data/old/new'), 'utf8'), 'new\n');
});

test('siblings built on one build_only layer share the ancestor layers', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
tools:
${await fromBusybox()}
  build_only: true
  run: echo tool > /tool
one:
  from:
    type: built
    tag: tools
  run: echo one > /one
two:
  from:
    type: built
    tag: tools
  run: echo two > /two
`,
  });
  const { oci } = await buildIn(dir);

  const one = readManifest(oci, 'one');
  const two = readManifest(oci, 'two');
  assert.equal(one.layers.length, 2);
  assert.equal(two.layers.length, 2);
  assert.equal(one.layers[0]?.digest, two.layers[0]?.digest);
  assert.notEqual(one.layers[1]?.digest, two.layers[1]?.digest);
  for (const [tag, own] of [
    ['one', 'one'],
    ['two', 'two'],
  ] as const) {
    const rootfs = umociUnpack(t, oci, tag);
    assert.equal(readFileSync(join(rootfs, 'tool'), 'utf8'), 'tool\n');
    assert.equal(readFileSync(join(rootfs, own), 'utf8'), `${own}\n`);
  }
});

test('a chain of two build_only layers collapses into one layer', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
first:
${await fromBusybox()}
  build_only: true
  run: |
    head -c ${4 * MiB} /dev/urandom > /big
    echo first > /changed
second:
  from:
    type: built
    tag: first
  build_only: true
  run: |
    echo second > /changed
    echo second > /second
app:
  from:
    type: built
    tag: second
  run: rm /big
`,
  });
  const { oci } = await buildIn(dir);

  const app = readManifest(oci, 'app');
  assert.equal(app.layers.length, 2, 'busybox + one layer for first, second and app');
  assert.ok((app.layers[1]?.size ?? MiB) < 16 * 1024);
  assert.equal(skopeoConfig(oci, 'app').rootfs.diff_ids.length, 2);
  const rootfs = umociUnpack(t, oci, 'app');
  assert.ok(!existsSync(join(rootfs, 'big')));
  assert.equal(readFileSync(join(rootfs, 'changed'), 'utf8'), 'second\n');
  assert.equal(readFileSync(join(rootfs, 'second'), 'utf8'), 'second\n');
});

test('a dest import of the child wins over the chain, as in the container', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'conf.txt': 'from the import\n',
    'stacker.yaml': `
tools:
${await fromBusybox()}
  build_only: true
  run: |
    mkdir -p /srv
    echo tools > /srv/conf
    echo tools > /srv/other
app:
  from:
    type: built
    tag: tools
  imports:
    - path: conf.txt
      dest: /srv/conf
  run: cp /srv/conf /seen
`,
  });
  const { oci } = await buildIn(dir);

  // busybox + the import's layer + the collapsed layer, which must not cover the import.
  assert.equal(readManifest(oci, 'app').layers.length, 3);
  const rootfs = umociUnpack(t, oci, 'app');
  assert.equal(readFileSync(join(rootfs, 'seen'), 'utf8'), 'from the import\n');
  assert.equal(readFileSync(join(rootfs, 'srv/conf'), 'utf8'), 'from the import\n');
  assert.equal(readFileSync(join(rootfs, 'srv/other'), 'utf8'), 'tools\n');
});

test('the collapsed layer is reused from the cache and rebuilt on a cached chain', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await bigFileProject(t);
  const { oci } = await buildIn(dir);
  const before = tagDigest(oci, 'app');

  const again = await buildIn(dir);
  assert.deepEqual(
    again.summary.layers.map((l) => l.status),
    ['reused', 'reused'],
  );
  assert.equal(tagDigest(oci, 'app'), before);

  // Only app changes: it is built on the cached chain, and still collapses it.
  const file = join(dir, 'stacker.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('echo app >', 'echo app >>'));
  const changed = await buildIn(dir);
  assert.deepEqual(
    changed.summary.layers.map((l) => l.status),
    ['reused', 'built'],
  );
  await assertCollapsed(t, oci);
});

test('the child of a build_only chain has the same digest in two fresh builds', async (t) => {
  if (!requireRoot(t)) return;
  // tools writes random bytes each time; app deletes them, so app is reproducible.
  const one = await bigFileProject(t);
  const two = await bigFileProject(t);
  await buildIn(one);
  await buildIn(two);
  assert.equal(tagDigest(join(one, 'oci'), 'app'), tagDigest(join(two, 'oci'), 'app'));
});

test('exports restore the collapsed image, and a child builds on a restored chain', async (t) => {
  if (!requireRoot(t)) return;
  const one = await bigFileProject(t);
  const exports = join(tempDir(t), 'exports');
  await buildIn(one, { exportDir: exports });

  const two = await bigFileProject(t);
  const restored = await buildIn(two, { layerStores: [exports] });
  assert.deepEqual(
    restored.summary.layers.map((l) => l.status),
    ['restored', 'restored'],
  );
  assert.equal(tagDigest(join(two, 'oci'), 'app'), tagDigest(join(one, 'oci'), 'app'));

  // app changed: built on tools' restored layers (extracted from their blobs).
  const three = await bigFileProject(t, 'rm /big\n    echo app > /app\n    true');
  const rebuilt = await buildIn(three, { layerStores: [exports] });
  assert.deepEqual(
    rebuilt.summary.layers.map((l) => l.status),
    ['restored', 'built'],
  );
  await assertCollapsed(t, rebuilt.oci);
});
