import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { OciLayout } from '../../src/oci/layout';
import {
  ANNOTATION_REF_NAME,
  type ImageConfig,
  type ImageManifest,
  MEDIA_TYPE_CONFIG,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_MANIFEST,
} from '../../src/oci/types';
import { ownerTag } from '../../src/util/process';
import { sha256, tempDir } from '../pack/helpers';

const worker = join(__dirname, 'worker.ts');
const runWorker = (...args: string[]) =>
  promisify(execFile)(process.execPath, [
    '--conditions=nx-stacker-source',
    '--import',
    'tsx',
    worker,
    ...args,
  ]);

const config: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
};

/** Writes a one-layer image and returns its manifest descriptor and the layer's digest. */
async function writeImage(layout: OciLayout, content: string) {
  const layer = await layout.writeBlob(content, MEDIA_TYPE_LAYER_TAR);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: { mediaType: MEDIA_TYPE_CONFIG, digest: '', size: 0 },
    layers: [layer],
  };
  const image = { ...config, rootfs: { type: 'layers' as const, diff_ids: [layer.digest] } };
  return { manifest: await layout.writeImage({ manifest, config: image }), layer: layer.digest };
}

function indexJson(dir: string) {
  return JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
}

test('creating a layout writes oci-layout, an empty index.json and blobs/sha256', async (t) => {
  const dir = join(tempDir(t), 'oci');
  await OciLayout.open(dir, { create: true });

  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), {
    imageLayoutVersion: '1.0.0',
  });
  assert.deepEqual(indexJson(dir), { schemaVersion: 2, manifests: [] });
  assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')), []);
  assert.deepEqual(readdirSync(join(dir, '..')), ['oci']);
});

test('an existing empty directory is turned into a layout when creating', async (t) => {
  const dir = tempDir(t);
  await OciLayout.open(dir, { create: true });
  assert.deepEqual(readdirSync(dir).sort(), ['blobs', 'index.json', 'oci-layout']);
});

test('a file where the layout should be is refused', async (t) => {
  const path = join(tempDir(t), 'oci');
  writeFileSync(path, 'x');
  await assert.rejects(OciLayout.open(path, { create: true }), {
    message: `parameter oci-dir="${path}" exists but is not a directory.`,
  });
});

test('a non-empty directory without index.json is not an OCI layout', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'something'), 'x');
  await assert.rejects(OciLayout.open(dir, { create: true }), {
    message: `parameter oci-dir="${dir}" exists but does not look like an OCI Layout.`,
  });
});

test('a missing layout is an error unless asked to create it', async (t) => {
  const dir = join(tempDir(t), 'nope');
  await assert.rejects(OciLayout.open(dir, { create: false }), /could not open OCI layout/);
  assert.equal(existsSync(dir), false);
});

test('layouts created at the same time by several callers end up as one', async (t) => {
  const dir = join(tempDir(t), 'oci');
  const layouts = await Promise.all(
    [1, 2, 3, 4, 5].map(() => OciLayout.open(dir, { create: true })),
  );
  assert.equal(layouts.length, 5);
  assert.deepEqual(readdirSync(join(dir, '..')), ['oci']);
  assert.deepEqual(indexJson(dir).manifests, []);
});

test('a blob is stored under its sha256, once, with no temp file left', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  const first = await layout.writeBlob('hello', MEDIA_TYPE_CONFIG);
  const again = await layout.writeBlob(Buffer.from('hello'), MEDIA_TYPE_CONFIG);

  assert.deepEqual(first, {
    mediaType: MEDIA_TYPE_CONFIG,
    digest: sha256(Buffer.from('hello')),
    size: 5,
  });
  assert.deepEqual(again, first);
  assert.deepEqual(readdirSync(join(layout.dir, 'blobs', 'sha256')), [first.digest.slice(7)]);
  assert.equal(readFileSync(layout.blobPath(first.digest), 'utf8'), 'hello');
});

test('a blob whose content does not match its digest is refused when read', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  const blob = await layout.writeBlob('{"a":1}', MEDIA_TYPE_CONFIG);
  writeFileSync(layout.blobPath(blob.digest), '{"a":2}');
  await assert.rejects(layout.readJson(blob), new RegExp(`blob ${blob.digest} .* is corrupt`));
});

test('digests that could name a path outside blobs/sha256 are refused', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  assert.throws(() => layout.blobPath('sha256:../../../etc/passwd'), /invalid digest/);
  assert.throws(() => layout.blobPath(`sha512:${'a'.repeat(128)}`), /invalid digest/);
});

test('re-pointing a tag moves it to the end of index.json and keeps foreign entries', async (t) => {
  const dir = tempDir(t);
  const layout = await OciLayout.open(dir, { create: true });
  const one = await writeImage(layout, 'one');
  const two = await writeImage(layout, 'two');
  const foreign = { ...one.manifest, annotations: { [ANNOTATION_REF_NAME]: 'foreign', x: 'y' } };
  const untagged = { ...two.manifest };
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [foreign, untagged] }),
  );

  await layout.updateTags([
    { name: 'a', descriptor: one.manifest },
    { name: 'b', descriptor: one.manifest },
  ]);
  await layout.updateTags([{ name: 'a', descriptor: two.manifest }]);

  const entries = indexJson(dir).manifests;
  assert.deepEqual(
    entries.map(
      (d: { annotations?: Record<string, string> }) => d.annotations?.[ANNOTATION_REF_NAME],
    ),
    ['foreign', undefined, 'b', 'a'],
  );
  assert.deepEqual(entries[0], foreign);
  assert.equal(entries[3].digest, two.manifest.digest);
  assert.deepEqual(layout.resolveTag('a'), {
    ...two.manifest,
    annotations: { [ANNOTATION_REF_NAME]: 'a' },
  });
  assert.deepEqual(
    layout.tags().map((tag) => tag.name),
    ['foreign', 'b', 'a'],
  );
  assert.deepEqual(readdirSync(dir).sort(), ['blobs', 'index.json', 'oci-layout']);
});

test('a tag cannot point at a manifest whose blobs are missing', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  const image = await writeImage(layout, 'layer');
  rmSync(layout.blobPath(image.layer));

  await assert.rejects(
    layout.updateTags([{ name: 'x', descriptor: image.manifest }]),
    new RegExp(`can't tag x: blob ${image.layer} is missing`),
  );
  assert.equal(layout.resolveTag('x'), undefined);
});

test('tag names the image spec does not allow are refused', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  const blob = await layout.writeBlob('{}', MEDIA_TYPE_CONFIG);
  for (const name of ['', 'has space', '-lead', 'trail.', 'a//b']) {
    await assert.rejects(
      layout.updateTags([{ name, descriptor: blob }]),
      { message: `refusing to update invalid reference "${name}"` },
      name,
    );
  }
});

test('tags written by concurrent processes are all kept', async (t) => {
  const dir = tempDir(t);
  await OciLayout.open(dir, { create: true });
  await Promise.all(['p', 'q', 'r'].map((prefix) => runWorker('tag', dir, prefix, '12')));

  const layout = await OciLayout.open(dir, { create: false });
  const names = layout.tags().map((tag) => tag.name);
  assert.equal(names.length, 36);
  for (const prefix of ['p', 'q', 'r']) {
    for (let i = 0; i < 12; i++) assert.ok(names.includes(`${prefix}-${i}`), `${prefix}-${i}`);
  }
});

test('a lock left behind by a killed process does not block tag updates', async (t) => {
  const dir = tempDir(t);
  const layout = await OciLayout.open(dir, { create: true });
  const dead = spawnSync('true').pid;
  writeFileSync(join(dir, '.index.json.lock'), `${dead}\n`);

  const blob = await layout.writeBlob('{}', MEDIA_TYPE_CONFIG);
  await layout.updateTags([{ name: 'after-crash', descriptor: blob }]);
  assert.equal(layout.resolveTag('after-crash')?.digest, blob.digest);
});

test('writeImage fills in the config descriptor of the manifest', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  const { manifest } = await writeImage(layout, 'x');
  const stored = await layout.readJson<ImageManifest>(manifest);

  assert.equal(manifest.mediaType, MEDIA_TYPE_MANIFEST);
  assert.equal(stored.schemaVersion, 2);
  assert.equal(stored.config.mediaType, MEDIA_TYPE_CONFIG);
  const storedConfig = await layout.readJson<ImageConfig>(stored.config);
  assert.equal(storedConfig.rootfs.diff_ids[0], stored.layers[0]?.digest);
});

test('gc removes what no tag reaches and keeps the rest', async (t) => {
  const dir = tempDir(t);
  const layout = await OciLayout.open(dir, { create: true });
  const tagged = await writeImage(layout, 'tagged');
  const viaIndex = await writeImage(layout, 'via-index');
  const index = await layout.writeBlob(
    JSON.stringify({ schemaVersion: 2, manifests: [viaIndex.manifest] }),
    MEDIA_TYPE_INDEX,
  );
  await layout.updateTags([
    { name: 'tagged', descriptor: tagged.manifest },
    { name: 'multi', descriptor: index },
  ]);
  const orphan = await writeImage(layout, 'orphan');
  const deadWriter = join(dir, 'blobs', 'sha256', `.tmp-${spawnSync('true').pid}-abc`);
  writeFileSync(deadWriter, 'partial');
  // A writer whose pid now names another process (our parent, which did not start at tick 1).
  const reusedPid = join(dir, 'blobs', 'sha256', `.tmp-${process.ppid}.1-abc`);
  writeFileSync(reusedPid, 'partial');
  const liveWriter = join(dir, 'blobs', 'sha256', `.tmp-${ownerTag()}-abc`);
  writeFileSync(liveWriter, 'being written');
  const past = new Date(Date.now() - 60_000);
  for (const name of readdirSync(join(dir, 'blobs', 'sha256'))) {
    utimesSync(join(dir, 'blobs', 'sha256', name), past, past);
  }
  const fresh = await layout.writeBlob('written after gc started', MEDIA_TYPE_CONFIG);

  const result = await layout.gc({ olderThan: new Date(Date.now() - 1000) });

  assert.ok(result.removed.includes(orphan.manifest.digest));
  assert.ok(result.removed.includes(orphan.layer));
  assert.equal(layout.hasBlob(orphan.layer), false);
  assert.equal(existsSync(deadWriter), false);
  assert.equal(existsSync(reusedPid), false);
  assert.equal(existsSync(liveWriter), true);
  for (const digest of [
    tagged.manifest.digest,
    tagged.layer,
    index.digest,
    viaIndex.layer,
    fresh.digest,
  ]) {
    assert.ok(layout.hasBlob(digest), digest);
  }
  const image = await layout.readJson<ImageManifest>(viaIndex.manifest);
  assert.ok(layout.hasBlob(image.config.digest));
});

test('gc keeps the untagged images the caller asks it to keep', async (t) => {
  const layout = await OciLayout.open(tempDir(t), { create: true });
  const kept = await writeImage(layout, 'build-only');
  const dropped = await writeImage(layout, 'dropped');
  const droppedConfig = (await layout.readJson<ImageManifest>(dropped.manifest)).config.digest;

  const olderThan = new Date(Date.now() + 1000);
  const result = await layout.gc({ olderThan, keep: [kept.manifest] });
  assert.ok(layout.hasBlob(kept.manifest.digest));
  assert.ok(layout.hasBlob(kept.layer));
  assert.deepEqual(
    result.removed.sort(),
    [dropped.manifest.digest, dropped.layer, droppedConfig].sort(),
  );
});

test('gc stops without removing anything when a tagged manifest cannot be read', async (t) => {
  const dir = tempDir(t);
  const layout = await OciLayout.open(dir, { create: true });
  const image = await writeImage(layout, 'x');
  await layout.updateTags([{ name: 'x', descriptor: image.manifest }]);
  const orphan = await layout.writeBlob('orphan', MEDIA_TYPE_CONFIG);
  writeFileSync(layout.blobPath(image.manifest.digest), 'not json');

  await assert.rejects(
    layout.gc({ olderThan: new Date(Date.now() + 1000) }),
    /gc .* stopped, nothing removed/,
  );
  assert.ok(layout.hasBlob(orphan.digest));
});
