import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Header, pack } from 'tar-stream';
import { MEDIA_TYPE_LAYER_TAR_GZIP } from '../../src/oci/types';
import { type ExtractOptions, extractLayer } from '../../src/storage/extract';
import { sha256 } from '../pack/helpers';

/** One entry for `buildTar`: a tar-stream header, and data for files. */
export interface RawEntry {
  header: Partial<Header> & { name: string; pax?: Record<string, string> };
  data?: string | Buffer;
}

/**
 * A tar written by tar-stream (an independent writer), gzipped unless `gzip` is false.
 * Hostile archives are built this way: tar-stream writes whatever names it is given.
 */
export async function buildTar(entries: RawEntry[], gzip = true): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  for (const { header, data } of entries) {
    await new Promise<void>((resolve, reject) => {
      const base = {
        mode: header.type === 'directory' ? 0o755 : 0o644,
        mtime: new Date(1_600_000_000_000),
      };
      archive.entry({ ...base, ...header }, data ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  archive.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  return gzip ? gzipSync(tar) : tar;
}

/** A blob on disk and what extractLayer needs to read it into `<root>/roots/<hex>/overlay`. */
export function blobOptions(root: string, blob: Buffer, mediaType = MEDIA_TYPE_LAYER_TAR_GZIP) {
  const digest = sha256(blob);
  const blobPath = join(root, `blob-${digest.slice(7, 19)}`);
  writeFileSync(blobPath, blob);
  const parent = join(root, 'roots', `sha256_${digest.slice(7)}`);
  mkdirSync(parent, { recursive: true });
  return { blobPath, mediaType, digest, target: join(parent, 'overlay'), parent };
}

/** Extracts `blob` under `root`; returns the options used (target, parent dir). */
export async function extractBlob(root: string, blob: Buffer, extra: Partial<ExtractOptions> = {}) {
  const opts = { ...blobOptions(root, blob), ...extra };
  await extractLayer(opts);
  return opts;
}

/** Names in `dir`, sorted (to check that no temp dir is left behind). */
export function namesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}
