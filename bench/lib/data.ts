import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSingleLayerImage } from '../../packages/engine/src/bases/single-layer-image';
import { readXattrs } from '../../packages/engine/src/native/xattrs';
import { OciLayout } from '../../packages/engine/src/oci/layout';
import type { Descriptor } from '../../packages/engine/src/oci/types';
import { type Change, syntheticChange } from './change';
import { aptMirror, debianRootfs, type Mirror } from './debian';

/** Everything the measurements work on, generated once under `bench/.data`. */
export interface BenchData {
  dir: string;
  mirror: Mirror;
  /** The Debian minbase tree. */
  rootfs: string;
  /** An OCI layout holding the rootfs as a one-layer image tagged `debian`. */
  ociDir: string;
  baseLayer: Descriptor;
  /** Uncompressed size of the base layer (its tar). */
  baseTarSize: number;
  change: Change;
}

export const BASE_TAG = 'debian';
export const SOURCE_DATE_EPOCH = 1_700_000_000;

/** Generates (or finds) the benchmark data under `dir`. */
export async function benchData(dir: string, log: (m: string) => void): Promise<BenchData> {
  mkdirSync(dir, { recursive: true });
  const mirror = aptMirror();
  const rootfs = debianRootfs(join(dir, 'rootfs'), mirror, log);
  const ociDir = join(dir, 'oci');
  const base = await baseImage(ociDir, rootfs, log);
  const change = await syntheticChange(join(dir, 'change'), rootfs, log);
  return { dir, mirror, rootfs, ociDir, ...base, change };
}

/**
 * The rootfs as a one-layer OCI image (layer packed by the engine at gzip 6), made once.
 * Its config is complete enough for umoci and for nx-stacker builds `from: oci`.
 */
async function baseImage(ociDir: string, rootfs: string, log: (m: string) => void) {
  const stamp = join(ociDir, '..', 'oci.json');
  if (existsSync(stamp) && existsSync(join(ociDir, 'index.json'))) {
    return JSON.parse(readFileSync(stamp, 'utf8')) as {
      baseLayer: Descriptor;
      baseTarSize: number;
    };
  }

  log('packing the base image');
  rmSync(ociDir, { recursive: true, force: true });
  const layout = await OciLayout.open(ociDir, { create: true });
  const xattrs = await readXattrs(rootfs, { stripOverlay: false });
  const { layer } = await writeSingleLayerImage({
    layout,
    dir: rootfs,
    tag: BASE_TAG,
    xattrs,
    sourceDateEpoch: SOURCE_DATE_EPOCH,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    createdBy: 'debootstrap --variant=minbase',
  });
  const saved = { baseLayer: layer.descriptor, baseTarSize: layer.uncompressedSize };
  writeFileSync(stamp, JSON.stringify(saved));
  return saved;
}
