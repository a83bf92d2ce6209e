import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, rmSync } from 'node:fs';
import { wrapError } from '../errors';
import type { Logger } from '../log';
import { readXattrs } from '../native/xattrs';
import type { OciLayout } from '../oci/layout';
import { ANNOTATION_VERITY_ROOT_HASH, type Descriptor } from '../oci/types';
import type { TreeXattrs } from '../pack/headers';
import { packLayer } from '../pack/pack-layer';
import { makeErofs } from './erofs';
import { makeSquashfs } from './squashfs';
import type { LayerType } from './types';
import { appendVerity } from './verity';

/** A layer blob made from a directory, now in the OCI dir. */
export interface LayerBlob {
  descriptor: Descriptor;
  /** The config's `rootfs.diff_ids` entry: the uncompressed tar's digest, or the blob's own. */
  diffId: string;
  /** Entries of the directory besides its root; 0 means there was nothing to store. */
  entries: number;
}

/** What making a blob needs besides the directory and the type. */
export interface BlobSettings {
  layout: OciLayout;
  sourceDateEpoch?: number;
  gzipLevel: number;
  /** The build's environment: PATH finds the filesystem tools. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

/**
 * Makes a layer of `type` from `dir`, a tree in overlay on-disk format (an upper dir or an
 * extracted layer), and stores it in the OCI dir. tar layers are packed as every tar layer
 * (gzip, whiteouts translated); squashfs and erofs layers store the tree as it is, whiteouts
 * included, with a verity hash tree when the type asks for it. `xattrs` (tar only) are the
 * tree's xattrs when the caller already read them; otherwise they are read without removing
 * anything from disk. Does not add the layer to any image.
 */
export async function makeLayerBlob(args: {
  dir: string;
  type: LayerType;
  settings: BlobSettings;
  xattrs?: TreeXattrs;
}): Promise<LayerBlob> {
  const { dir, type, settings } = args;
  if (type.kind === 'tar') {
    const packed = await packLayer({
      dir,
      layout: settings.layout,
      sourceDateEpoch: settings.sourceDateEpoch,
      gzipLevel: settings.gzipLevel,
      xattrs: args.xattrs ?? (await readXattrs(dir, { stripOverlay: false })),
      logger: settings.log,
    });
    return { descriptor: packed.descriptor, diffId: packed.diffId, entries: packed.entries };
  }
  const descriptor = await makeImageBlob(dir, type, settings);
  return { descriptor, diffId: descriptor.digest, entries: readdirSync(dir).length };
}

/** A squashfs or erofs image of `dir` (plus verity), written and stored as a blob. */
async function makeImageBlob(
  dir: string,
  type: LayerType,
  settings: BlobSettings,
): Promise<Descriptor> {
  const started = Date.now();
  const tmp = settings.layout.tempBlobPath();
  const tool = {
    dir,
    out: tmp,
    env: settings.env,
    sourceDateEpoch: settings.sourceDateEpoch,
    signal: settings.signal,
  };
  try {
    const mediaType = type.kind === 'squashfs' ? await makeSquashfs(tool) : await makeErofs(tool);
    const annotations: Record<string, string> = {};
    if (type.verity) {
      annotations[ANNOTATION_VERITY_ROOT_HASH] = await appendVerity({
        file: tmp,
        reproducible: settings.sourceDateEpoch !== undefined,
        env: settings.env,
        signal: settings.signal,
      });
    }
    const { digest, size } = await hashFile(tmp);
    const descriptor = await settings.layout.writeBlobFromFile(
      tmp,
      digest,
      size,
      mediaType,
      annotations,
    );
    settings.log.debug(
      `made ${type.kind} layer ${digest} (${size} bytes) from ${dir} in ${Date.now() - started} ms`,
    );
    return descriptor;
  } catch (err) {
    throw wrapError(err, `couldn't make a ${type.kind} layer of ${dir}`, { step: 'pack' });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** sha256 digest and size of a file, read once. */
export async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
