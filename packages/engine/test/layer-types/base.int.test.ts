import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { buildIn, projectDir, readManifest, requireRoot, umociUnpack } from '../helpers';
import { builtProject, VERITY_ANNOTATION } from './helpers';

/**
 * A temp dir with `top`, on `<oci>:base-<kind>`, whose run fails unless it sees the base's
 * changes, and `copy`, the image `<oci>:xa-<kind>` as it is.
 */
function topProject(t: TestContext, oci: string, kind: string): string {
  return projectDir(t, {
    'stacker.yaml': `
copy:
  from:
    type: oci
    url: ${oci}:xa-${kind}
top:
  from:
    type: oci
    url: ${oci}:base-${kind}
  run: |
    test ! -e /etc/passwd
    test "$(ls /usr/sbin)" = only
    test "$(cat /built)" = built
    echo top > /top
`,
  });
}

for (const kind of ['squashfs', 'erofs'] as const) {
  test(`builds on ${kind} base layers, extracted with whiteouts and opaque dirs`, async (t) => {
    if (!requireRoot(t)) return;
    const first = await builtProject(t, { layerTypes: [kind] });

    // A fresh roots dir: the base's layers must be extracted from their blobs.
    const second = topProject(t, first.oci, kind);
    const { summary, oci } = await buildIn(second, { layerTypes: ['tar'] });
    assert.deepEqual(
      summary.layers.map((l) => l.status),
      ['built', 'built'],
    );

    const layers = readManifest(oci, 'top').layers;
    assert.deepEqual(
      layers.map((l) => l.mediaType),
      Array(3).fill('application/vnd.oci.image.layer.v1.tar+gzip'),
    );
    const rootfs = umociUnpack(t, oci, 'top');
    assert.ok(!readdirSync(join(rootfs, 'etc')).includes('passwd'));
    assert.deepEqual(readdirSync(join(rootfs, 'usr/sbin')), ['only']);
  });
}

test('tar layers converted to squashfs and back are the same tar layers', async (t) => {
  if (!requireRoot(t)) return;
  const { dir: first } = await builtProject(t, { layerTypes: ['tar', 'squashfs'] });

  // Only the squashfs image goes to the second build, which makes tar layers from it.
  const second = topProject(t, join(first, 'oci'), 'squashfs');
  await buildIn(second, { layerTypes: ['tar', 'squashfs'] });

  const digests = (oci: string, tag: string) => readManifest(oci, tag).layers.map((l) => l.digest);
  assert.deepEqual(digests(join(second, 'oci'), 'copy'), digests(join(first, 'oci'), 'xa'));
  const top = digests(join(second, 'oci'), 'top');
  assert.deepEqual(top.slice(0, 2), digests(join(first, 'oci'), 'base'));
  const topSquashfs = digests(join(second, 'oci'), 'top-squashfs');
  assert.deepEqual(topSquashfs.slice(0, 2), digests(join(first, 'oci'), 'base-squashfs'));
});

test('squashfs base layers without verity data are made again for a verity build', async (t) => {
  if (!requireRoot(t)) return;
  const { dir: first } = await builtProject(t, { layerTypes: ['squashfs'], verity: false });

  const second = topProject(t, join(first, 'oci'), 'squashfs');
  await buildIn(second, { layerTypes: ['squashfs'] });

  const plain = readManifest(join(first, 'oci'), 'base-squashfs').layers;
  const top = readManifest(join(second, 'oci'), 'top-squashfs').layers;
  assert.equal(top.length, 3);
  for (const [i, layer] of top.entries()) {
    assert.match(layer.annotations?.[VERITY_ANNOTATION] ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(layer.digest, plain[i]?.digest);
  }
});
