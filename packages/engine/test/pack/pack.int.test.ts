import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readXattrs } from '../../src/native/xattrs';
import { OciLayout } from '../../src/oci/layout';
import {
  type ImageConfig,
  type ImageManifest,
  MEDIA_TYPE_CONFIG,
  MEDIA_TYPE_MANIFEST,
} from '../../src/oci/types';
import { packLayer } from '../../src/pack/pack-layer';
import {
  describeTree,
  readHeaders,
  requireRoot,
  requireTool,
  run,
  tarNames,
  tempDir,
} from './helpers';
import { makeOverlayChanges } from './overlay-fixture';

/** Packs `lower` and `upper` as the two layers of an image tagged `tag` in `layout`. */
async function writeTwoLayerImage(layout: OciLayout, lower: string, upper: string, tag: string) {
  const base = await packLayer({
    dir: lower,
    layout,
    xattrs: await readXattrs(lower, { stripOverlay: false }),
  });
  const diff = await packLayer({
    dir: upper,
    layout,
    xattrs: await readXattrs(upper, { stripOverlay: true }),
  });
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [base.diffId, diff.diffId] },
    history: [{ created_by: 'base' }, { created_by: 'diff' }],
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: { mediaType: MEDIA_TYPE_CONFIG, digest: '', size: 0 },
    layers: [base.descriptor, diff.descriptor],
  };
  const descriptor = await layout.writeImage({ manifest, config });
  await layout.updateTags([{ name: tag, descriptor }]);
  return { base, diff, descriptor };
}

test('umoci applies a packed overlayfs upper dir onto its base: the merged view', async (t) => {
  if (!requireRoot(t) || !requireTool(t, 'umoci')) return;
  const root = tempDir(t);
  const { lower, upper, view } = makeOverlayChanges(t, root);
  const layout = await OciLayout.open(join(root, 'oci'), { create: true });
  const { diff } = await writeTwoLayerImage(layout, lower, upper, 'merged');

  const blob = layout.blobPath(diff.descriptor.digest);
  const names = tarNames(blob);
  for (const name of ['etc/.wh.group', 'var/cache/', 'var/cache/.wh..wh..opq', 'dev/null']) {
    assert.ok(names.includes(name), `${name} in ${names.join(' ')}`);
  }
  const records = (await readHeaders(blob)).flatMap((h) => Object.keys(h.pax ?? {}));
  assert.deepEqual(
    records.filter((k) => k.includes('.overlay.')),
    [],
    'no overlayfs bookkeeping in the layer',
  );

  const bundle = join(root, 'bundle');
  run('umoci', ['unpack', '--image', `${layout.dir}:merged`, bundle]);
  assert.deepEqual(describeTree(join(bundle, 'rootfs'), { xattrs: true }), view);
});

test('skopeo reads an image written and tagged through OciLayout', async (t) => {
  if (!requireRoot(t) || !requireTool(t, 'skopeo')) return;
  const root = tempDir(t);
  const { lower, upper } = makeOverlayChanges(t, root);
  const layout = await OciLayout.open(join(root, 'oci'), { create: true });
  const { base, diff, descriptor } = await writeTwoLayerImage(layout, lower, upper, 'app');

  const info = JSON.parse(run('skopeo', ['inspect', `oci:${layout.dir}:app`]).toString());
  assert.equal(info.Digest, descriptor.digest);
  assert.deepEqual(info.Layers, [base.descriptor.digest, diff.descriptor.digest]);
  const config = JSON.parse(
    run('skopeo', ['inspect', '--config', `oci:${layout.dir}:app`]).toString(),
  );
  assert.deepEqual(config.rootfs.diff_ids, [base.diffId, diff.diffId]);
});
