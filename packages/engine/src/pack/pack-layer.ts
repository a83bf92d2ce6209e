import { createWriteStream, rmSync } from 'node:fs';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StackerError, wrapError } from '../errors';
import type { Logger } from '../log';
import { DigestStream } from '../oci/digest';
import type { OciLayout } from '../oci/layout';
import {
  ANNOTATION_UNCOMPRESSED_SIZE,
  type Descriptor,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_LAYER_TAR_GZIP,
} from '../oci/types';
import { isDiskFull } from '../util/fs';
import { type ArchiveStats, tarArchive } from './archive';
import type { TreeXattrs } from './headers';
import { ParallelGzip } from './parallel-gzip';

export interface PackOptions {
  /** The directory to pack: an overlay upper dir or an overlay dir's content. */
  dir: string;
  /** Where the blob goes. */
  layout: OciLayout;
  /** xattrs of `dir`, from `readXattrs(dir, { stripOverlay: true })`. */
  xattrs: TreeXattrs;
  /** SOURCE_DATE_EPOCH: file mtimes later than this are clamped to it. */
  sourceDateEpoch?: number;
  /** gzip level, 0-9; default 6 (zlib's default). Ignored by `packDir`. */
  gzipLevel?: number;
  /** Blocks compressed at once (see ParallelGzip); does not change the output. */
  gzipThreads?: number;
  /** Told (warn) about files a tar cannot hold, which are left out. */
  logger?: Logger;
}

export interface PackResult {
  /** Descriptor of the layer blob, now in the layout. */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar: the layer's entry in the config's `rootfs.diff_ids`. */
  diffId: string;
  uncompressedSize: number;
  /** Tar entries besides the root directory; 0 means `dir` held nothing to pack. */
  entries: number;
}

/**
 * Packs `dir` into a gzip-compressed OCI layer (`…layer.v1.tar+gzip`) stored in `layout`.
 * The digest and the diff ID are computed while the bytes stream to a temp file in the
 * layout's blob dir, which is then renamed to its digest: one pass, nothing held in memory.
 * gzip runs on several threads (see ParallelGzip). The same tree gives the same bytes (names
 * sorted, times clamped, fixed gzip header, fixed compression blocks) whatever the thread
 * count, for a given zlib version. Does not add the layer to any manifest.
 *
 * The archive's first entry is `./`, carrying the mode, owner and (clamped) mtime of `dir`
 * itself, so a change to the image's `/` survives. stacker names that entry `/`; `./` means
 * the same to every extractor (umoci, containerd, GNU tar) without GNU tar's "removing
 * leading /" warning, and keeps every name in the archive relative.
 */
export function packLayer(opts: PackOptions): Promise<PackResult> {
  return pack(opts, true);
}

/**
 * `packLayer` without compression: an `…layer.v1.tar` blob whose digest is its diff ID, as
 * stacker stores overlay dirs and `dest` imports.
 */
export function packDir(opts: Omit<PackOptions, 'gzipLevel'>): Promise<PackResult> {
  return pack(opts, false);
}

async function pack(opts: PackOptions, gzip: boolean): Promise<PackResult> {
  if (gzip) assertGzipLevel(opts.gzipLevel ?? 6);
  const stats: ArchiveStats = { entries: 0 };
  const onSkip = (rel: string, why: string) => opts.logger?.warn(`skipping /${rel}: ${why}`);
  const archive = Readable.from(
    tarArchive(
      { dir: opts.dir, xattrs: opts.xattrs, sourceDateEpoch: opts.sourceDateEpoch, onSkip },
      stats,
    ),
    { objectMode: false, highWaterMark: 1 << 20 },
  );
  const tar = new DigestStream();
  const blob = gzip ? new DigestStream() : tar;
  const stages: Transform[] = gzip
    ? [tar, new ParallelGzip({ level: opts.gzipLevel ?? 6, threads: opts.gzipThreads }), blob]
    : [tar];

  const tmp = opts.layout.tempBlobPath();
  try {
    await pipeline([archive, ...stages, createWriteStream(tmp)]);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (isDiskFull(err)) {
      throw new StackerError(
        `no space left on device for the layer blob in ${opts.layout.dir}`,
        { step: 'pack' },
        opts.layout.diskFullHint(),
        { cause: err },
      );
    }
    throw wrapError(err, `couldn't pack ${opts.dir}`, { step: 'pack' });
  }

  const annotations: Record<string, string> = {};
  if (blob.size !== tar.size) annotations[ANNOTATION_UNCOMPRESSED_SIZE] = `${tar.size}`;
  const mediaType = gzip ? MEDIA_TYPE_LAYER_TAR_GZIP : MEDIA_TYPE_LAYER_TAR;
  const descriptor = await opts.layout.writeBlobFromFile(
    tmp,
    blob.digest,
    blob.size,
    mediaType,
    annotations,
  );
  return { descriptor, diffId: tar.digest, uncompressedSize: tar.size, entries: stats.entries };
}

/** Checks a gzip level before any work starts. */
function assertGzipLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new StackerError(`invalid gzip level ${level}: expected an integer from 0 to 9`);
  }
}
