import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeLayerBlob } from '../../src/layer-types/blob';
import type { LayerType } from '../../src/layer-types/types';
import { appendVerity } from '../../src/layer-types/verity';
import { memoryLogger } from '../../src/log';
import { OciLayout } from '../../src/oci/layout';
import { blobPath, tempDir, writeFiles } from '../helpers';
import { VERITY_ANNOTATION, veritysetupVerify } from './helpers';

const SDE = 1700000000;

/** A small tree, its files written in the given order, every mtime after SDE. */
function tree(dir: string, names: string[]): string {
  for (const name of names) writeFiles(dir, { [`etc/${name}`]: `${name}\n` });
  const later = new Date((SDE + 1000) * 1000);
  for (const name of names) utimesSync(join(dir, 'etc', name), later, later);
  return dir;
}

/** Makes a layer with SOURCE_DATE_EPOCH set unless `sde` says otherwise. */
async function make(
  dir: string,
  oci: string,
  type: LayerType,
  opts: { env?: NodeJS.ProcessEnv; sde?: number | 'unset' } = {},
) {
  const layout = await OciLayout.open(oci, { create: true });
  const sourceDateEpoch = opts.sde === 'unset' ? undefined : (opts.sde ?? SDE);
  const env = opts.env ?? process.env;
  return makeLayerBlob({
    dir,
    type,
    settings: { layout, sourceDateEpoch, gzipLevel: 6, env, log: memoryLogger() },
  });
}

test('a squashfs layer lists its files, has its digest as diff ID and verifies', async (t) => {
  const oci = join(tempDir(t), 'oci');
  const dir = tree(tempDir(t), ['a', 'b']);
  const blob = await make(dir, oci, { kind: 'squashfs', verity: true });

  assert.equal(blob.descriptor.mediaType, 'application/vnd.stacker.image.layer.squashfs+zstd');
  assert.equal(blob.diffId, blob.descriptor.digest);
  assert.equal(blob.entries, 1);
  const path = blobPath(oci, blob.descriptor.digest);
  const listing = execFileSync('unsquashfs', ['-l', path], { encoding: 'utf8' });
  assert.match(listing, /squashfs-root\/etc\/a\nsquashfs-root\/etc\/b\n/);
  const root = blob.descriptor.annotations?.[VERITY_ANNOTATION] ?? '';
  veritysetupVerify(path, 'squashfs', root);
});

test('an erofs layer passes fsck.erofs and verifies', async (t) => {
  const oci = join(tempDir(t), 'oci');
  const blob = await make(tree(tempDir(t), ['a']), oci, { kind: 'erofs', verity: true });

  assert.equal(blob.descriptor.mediaType, 'application/vnd.stacker.image.layer.erofs+lz4hc');
  const path = blobPath(oci, blob.descriptor.digest);
  execFileSync('fsck.erofs', [path], { stdio: 'pipe' });
  veritysetupVerify(path, 'erofs', blob.descriptor.annotations?.[VERITY_ANNOTATION] ?? '');
});

for (const kind of ['squashfs', 'erofs'] as const) {
  test(`with SOURCE_DATE_EPOCH, the same tree gives the same ${kind} layer`, async (t) => {
    const oci = join(tempDir(t), 'oci');
    const type = { kind, verity: true };
    const one = await make(tree(tempDir(t), ['a', 'b', 'c']), oci, type);
    const two = await make(tree(tempDir(t), ['c', 'b', 'a']), oci, type);
    assert.equal(two.descriptor.digest, one.descriptor.digest);
    assert.deepEqual(two.descriptor.annotations, one.descriptor.annotations);
  });
}

test('without SOURCE_DATE_EPOCH, the verity salt is random as in stacker', async (t) => {
  const oci = join(tempDir(t), 'oci');
  const dir = tree(tempDir(t), ['a']);
  const type = { kind: 'squashfs', verity: true } as const;
  const one = await make(dir, oci, type, { sde: 'unset' });
  const two = await make(dir, oci, type, { sde: 'unset' });
  const salt = (digest: string) =>
    /Salt:\s*([0-9a-f]+)/.exec(
      execFileSync('veritysetup', ['dump', `--hash-offset=${4096}`, blobPath(oci, digest)], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
      }),
    )?.[1];
  assert.notEqual(salt(one.descriptor.digest), salt(two.descriptor.digest));
});

test('a missing mkfs.erofs names the package to install', async (t) => {
  const oci = join(tempDir(t), 'oci');
  const dir = tree(tempDir(t), ['a']);
  await assert.rejects(
    make(dir, oci, { kind: 'erofs', verity: false }, { env: { PATH: tempDir(t) } }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /mkfs\.erofs not found on PATH, and --layer-type erofs needs it/);
      assert.match(err.hint ?? '', /apt-get install erofs-utils/);
      return true;
    },
  );
});

test('verity refuses a file that is not a whole number of 4 KiB blocks', async (t) => {
  const file = join(tempDir(t), 'image');
  writeFileSync(file, Buffer.alloc(1000));
  await assert.rejects(
    appendVerity({ file, reproducible: true, env: process.env }),
    /bad verity file size 1000/,
  );
});
