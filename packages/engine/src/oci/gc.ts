import { rm } from 'node:fs/promises';
import { StackerError } from '../errors';
import { ownerTagAlive } from '../util/process';
import { isDigest } from './digest';
import type { OciLayout } from './layout';
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from './types';

/** What a gc removed. */
export interface GcResult {
  /** Digests of the deleted blobs. */
  removed: string[];
  /** Bytes freed, temp files of dead writers included. */
  freedBytes: number;
}

/** Prefix of blobs being written (`.tmp-<pid>-<random>`); gc removes dead writers' ones. */
export const TEMP_BLOB_PREFIX = '.tmp-';

const MANIFEST_TYPES = new Set([MEDIA_TYPE_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST]);
const INDEX_TYPES = new Set([MEDIA_TYPE_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST]);

/**
 * Mark (from index.json and the `keep` descriptors) and sweep over `layout`; the caller
 * holds the index lock. Blobs modified at or after `cutoff` are never deleted (they may
 * belong to a build that has not tagged them yet), nor are temp files of writers still alive.
 */
export async function collectGarbage(
  layout: OciLayout,
  cutoff: Date,
  keep: Descriptor[],
): Promise<GcResult> {
  const reachable = await markReachable(layout, [...layout.readIndex().manifests, ...keep]);
  const result: GcResult = { removed: [], freedBytes: 0 };

  for (const file of await layout.listBlobFiles()) {
    if (file.mtimeMs >= cutoff.getTime()) continue;
    if (file.name.startsWith(TEMP_BLOB_PREFIX)) {
      if (writerAlive(file.name)) continue;
    } else {
      const digest = `sha256:${file.name}`;
      if (!isDigest(digest) || reachable.has(digest)) continue;
      result.removed.push(digest);
    }
    await rm(file.path, { force: true });
    result.freedBytes += file.size;
  }
  return result;
}

/**
 * Every digest reachable from `roots`. A manifest or index that is present but unreadable
 * stops the gc: what it refers to is unknown, so nothing could be deleted safely. A missing
 * one (a dangling tag) refers to nothing we have.
 */
async function markReachable(layout: OciLayout, roots: Descriptor[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending: Descriptor[] = [...roots];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (seen.has(next.digest)) continue;
    seen.add(next.digest);
    const isManifest = MANIFEST_TYPES.has(next.mediaType);
    if (!isManifest && !INDEX_TYPES.has(next.mediaType)) continue;
    if (!layout.hasBlob(next.digest)) continue;

    const content = await readOrStop(layout, next);
    if (isManifest) {
      const manifest = content as ImageManifest;
      pending.push(manifest.config, ...(manifest.layers ?? []));
      if (manifest.subject) pending.push(manifest.subject);
    } else {
      pending.push(...((content as ImageIndex).manifests ?? []));
    }
  }
  return seen;
}

async function readOrStop(layout: OciLayout, descriptor: Descriptor): Promise<unknown> {
  try {
    return await layout.readJson<unknown>(descriptor);
  } catch (err) {
    throw new StackerError(
      `gc of ${layout.dir} stopped, nothing removed: ${(err as Error).message}`,
      {},
      `fix or remove the tag pointing at ${descriptor.digest}`,
    );
  }
}

/** Temp blob names carry their writer (`.tmp-<pid>.<start>-<random>`, see ownerTag). */
function writerAlive(name: string): boolean {
  return ownerTagAlive(name.slice(TEMP_BLOB_PREFIX.length).split('-')[0] ?? '');
}
