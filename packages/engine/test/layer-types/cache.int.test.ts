import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryLogger } from '../../src/log';
import { publish } from '../../src/publish/publish';
import { buildIn, requireRoot, tagDigest, tempDir } from '../helpers';
import { builtProject, copyProject, tagNames, writeProject } from './helpers';

const ALL = ['tar', 'squashfs', 'erofs'];

test('with SOURCE_DATE_EPOCH, a fresh build gives the same image of every type', async (t) => {
  if (!requireRoot(t)) return;
  const { dir: first } = await builtProject(t, { layerTypes: ALL });
  const second = copyProject(t, first);
  await buildIn(second, { layerTypes: ALL });

  const tags = tagNames(join(first, 'oci'));
  assert.equal(tags.length, 6);
  for (const tag of tags) {
    assert.equal(tagDigest(join(second, 'oci'), tag), tagDigest(join(first, 'oci'), tag), tag);
  }
});

test('the same layer types reuse the cache; another set of types rebuilds', async (t) => {
  if (!requireRoot(t)) return;
  const { dir } = await builtProject(t, { layerTypes: ['tar', 'squashfs'] });
  const before = tagDigest(join(dir, 'oci'), 'base-squashfs');

  const again = await buildIn(dir, { layerTypes: ['tar', 'squashfs'] });
  assert.deepEqual(
    again.summary.layers.map((l) => l.status),
    ['reused', 'reused'],
  );
  assert.equal(tagDigest(join(dir, 'oci'), 'base-squashfs'), before);

  const more = await buildIn(dir, { layerTypes: ALL });
  assert.deepEqual(
    more.summary.layers.map((l) => [l.status, l.reason]),
    [
      ['built', 'build settings changed'],
      ['built', 'build settings changed'],
    ],
  );
  const cacheDir = join(dir, '.stacker', 'cache');
  const entries = readdirSync(cacheDir).map((f) =>
    JSON.parse(readFileSync(join(cacheDir, f), 'utf8')),
  );
  const base = entries.find((e) => e.name === 'base');
  assert.deepEqual(Object.keys(base.result.manifests), ALL);
  assert.deepEqual(base.result.manifest, base.result.manifests.tar);
});

test('an exported layer restores its image of every type into a fresh OCI dir', async (t) => {
  if (!requireRoot(t)) return;
  const exports = join(tempDir(t), 'exports');
  const { dir: first } = await builtProject(t, {
    layerTypes: ['squashfs', 'tar'],
    exportDir: exports,
  });

  const second = copyProject(t, first);
  const { summary } = await buildIn(second, {
    layerTypes: ['squashfs', 'tar'],
    layerStores: [exports],
  });
  assert.deepEqual(
    summary.layers.map((l) => l.status),
    ['restored', 'restored'],
  );
  for (const tag of tagNames(join(first, 'oci'))) {
    assert.equal(tagDigest(join(second, 'oci'), tag), tagDigest(join(first, 'oci'), tag), tag);
    execFileSync('skopeo', ['inspect', `oci:${join(second, 'oci')}:${tag}`], { stdio: 'pipe' });
  }
});

test('publish sends the image of each --layer-type under the tag with its suffix', async (t) => {
  if (!requireRoot(t)) return;
  const { dir } = await builtProject(t, { layerTypes: ['tar', 'squashfs'] });
  const out = join(dir, 'published');
  const options = {
    stackerFiles: ['stacker.yaml'],
    cwd: dir,
    url: `oci:${out}`,
    tags: ['1.0'],
    log: memoryLogger(),
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  };

  // Only the squashfs images, although the build made tar images too.
  const sent = await publish({ ...options, layerTypes: ['squashfs'] });
  assert.deepEqual(
    sent.map((s) => s.destination),
    [`oci:${out}:base_1.0-squashfs`, `oci:${out}:xa_1.0-squashfs`],
  );
  assert.equal(tagDigest(out, 'base_1.0-squashfs'), tagDigest(join(dir, 'oci'), 'base-squashfs'));
  execFileSync('skopeo', ['inspect', `oci:${out}:xa_1.0-squashfs`], { stdio: 'pipe' });

  await assert.rejects(publish({ ...options, layerTypes: ['erofs'] }), (err: Error) => {
    assert.match(err.message, /layer needs to be rebuilt before publishing: base/);
    return true;
  });
});

test('a missing mksquashfs says which package to install', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await writeProject(dir);
  const empty = tempDir(t);
  await assert.rejects(
    buildIn(dir, {
      layerTypes: ['squashfs'],
      env: { SOURCE_DATE_EPOCH: '1700000000', PATH: empty },
    }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /mksquashfs not found/);
      assert.match(err.hint ?? '', /apt-get install squashfs-tools/);
      return true;
    },
  );
});
