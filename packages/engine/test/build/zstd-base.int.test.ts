import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { StackerError } from '../../src/errors';
import { extractLayer } from '../../src/storage/extract';
import {
  blobPath,
  buildIn,
  busyboxLayout,
  errorOf,
  projectDir,
  requireRoot,
  skopeoManifest,
  tempDir,
  umociUnpack,
} from '../helpers';

const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** The busybox image recompressed with zstd by skopeo, as `busybox` in a new layout. */
async function zstdBusybox(t: TestContext): Promise<string> {
  const out = join(tempDir(t), 'oci');
  execFileSync('skopeo', [
    'copy',
    '--dest-compress',
    '--dest-compress-format',
    'zstd',
    `oci:${await busyboxLayout()}:busybox`,
    `oci:${out}:busybox`,
  ]);
  assert.equal(skopeoManifest(out, 'busybox').layers[0]?.mediaType, ZSTD);
  return out;
}

test('a base image with zstd-compressed layers is extracted and built on', async (t) => {
  if (!requireRoot(t)) return;
  const base = await zstdBusybox(t);
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: {type: oci, url: "${base}:busybox"}
  run: echo "built on $(ls /bin/busybox)" > /app
`,
  });
  const { summary, oci } = await buildIn(dir);
  assert.equal(summary.layers[0]?.status, 'built');

  // The base's layer is kept as it is; the image is checked after skopeo has recompressed it
  // to gzip, since Debian's umoci cannot read zstd layers.
  const layers = skopeoManifest(oci, 'app').layers;
  assert.equal(layers[0]?.mediaType, ZSTD);
  const gzip = join(tempDir(t), 'oci');
  execFileSync('skopeo', [
    'copy',
    '--dest-compress-format',
    'gzip',
    `oci:${oci}:app`,
    `oci:${gzip}:app`,
  ]);
  const rootfs = umociUnpack(t, gzip, 'app');
  assert.equal(readFileSync(join(rootfs, 'app'), 'utf8'), 'built on /bin/busybox\n');
});

test('a zstd layer whose bytes do not match its digest is refused', async (t) => {
  if (!requireRoot(t)) return;
  const base = await zstdBusybox(t);
  const layer = skopeoManifest(base, 'busybox').layers[0]?.digest as string;
  const path = blobPath(base, layer);
  const bytes = readFileSync(path);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
  writeFileSync(path, bytes);
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: {type: oci, url: "${base}:busybox"}
  run: "true"
`,
  });
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /couldn't extract layer sha256:[0-9a-f]+ .*does not match its digest/);
});

test('without the zstd program, the error says which package to install', async (t) => {
  if (!requireRoot(t)) return;
  const base = await zstdBusybox(t);
  const layer = skopeoManifest(base, 'busybox').layers[0] as { digest: string; mediaType: string };
  const target = join(tempDir(t), 'content');
  const err = await extractLayer({
    blobPath: blobPath(base, layer.digest),
    mediaType: layer.mediaType,
    digest: layer.digest,
    target,
    env: { PATH: '/nonexistent' },
  }).then(
    () => assert.fail('extraction should fail'),
    (e: unknown) => e as StackerError,
  );
  assert.match(err.message, /zstd not found on PATH, and extracting a zstd-compressed layer/);
  assert.match(err.format(), /apt-get install zstd\)/);
  assert.equal(existsSync(target), false, 'nothing half-extracted');
});
