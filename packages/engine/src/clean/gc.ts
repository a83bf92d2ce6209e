import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BuildCache, resultManifests } from '../cache/store';
import type { Logger } from '../log';
import { OciLayout } from '../oci/layout';
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../oci/types';
import { removeStaleSnapshots } from '../snapshot/temporary';
import { digestDirName } from '../storage/roots';
import { assertNoOtherUser } from './busy';

/** What `gc` removed. */
export interface GcSummary {
  /** Unreferenced blobs deleted from the OCI dir, and their bytes. */
  blobs: number;
  freedBytes: number;
  /** Extracted layers (`sha256_*` dirs) deleted from the roots dir. */
  extractedLayers: number;
  /** Snapshot dirs left behind by killed chroot/grab processes. */
  snapshots: number;
}

/**
 * `stacker gc`, which stacker leaves unimplemented (`todo`): removes what no image needs any
 * more. In the OCI dir, blobs unreachable from the tags and from the build cache (which
 * keeps build_only images); in the roots dir, extracted layers that are not a layer of any
 * of those images nor the dir such a layer of another type links to (they are only a cache:
 * a later build extracts them again) and snapshot dirs of processes that are gone. Refuses
 * to run while another process uses the dirs.
 */
export async function gc(opts: {
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
  log: Logger;
}): Promise<GcSummary> {
  assertNoOtherUser(opts.stackerDir, 'gc');
  const summary: GcSummary = { blobs: 0, freedBytes: 0, extractedLayers: 0, snapshots: 0 };
  summary.snapshots = removeStaleSnapshots(opts.rootsDir).length;

  let layout: OciLayout | undefined;
  try {
    layout = await OciLayout.open(opts.ociDir, { create: false });
  } catch {
    layout = undefined;
  }
  const keep = new BuildCache(opts.stackerDir)
    .entries()
    .flatMap((e) => resultManifests(e.result).map(([, manifest]) => manifest));
  if (layout) {
    const { removed, freedBytes } = await layout.gc({ keep });
    summary.blobs = removed.length;
    summary.freedBytes = freedBytes;
  }

  // Extracted layers nothing refers to. Without an OCI dir no image needs any of them.
  const needed = layout
    ? await layerDigests(layout, [...layout.readIndex().manifests, ...keep])
    : [];
  const neededDirs = new Set(needed.map(digestDirName));
  // A layer of another type is a symlink to the dir its content was extracted to: keep that.
  for (const name of [...neededDirs]) {
    const target = linkTarget(join(opts.rootsDir, name));
    if (target?.startsWith('sha256_')) neededDirs.add(target);
  }
  for (const name of listDir(opts.rootsDir)) {
    if (!name.startsWith('sha256_') || neededDirs.has(name)) continue;
    rmSync(join(opts.rootsDir, name), { recursive: true, force: true });
    summary.extractedLayers++;
  }
  opts.log.debug(`gc: ${JSON.stringify(summary)}`);
  return summary;
}

/** Digests of every layer of the images reachable from `roots` (manifests and indexes). */
async function layerDigests(layout: OciLayout, roots: Descriptor[]): Promise<string[]> {
  const layers = new Set<string>();
  const seen = new Set<string>();
  const pending = [...roots];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (seen.has(next.digest) || !layout.hasBlob(next.digest)) continue;
    seen.add(next.digest);
    if (next.mediaType === MEDIA_TYPE_MANIFEST || next.mediaType === MEDIA_TYPE_DOCKER_MANIFEST) {
      const manifest = await layout.readJson<ImageManifest>(next);
      for (const l of manifest.layers ?? []) layers.add(l.digest);
    } else if (
      next.mediaType === MEDIA_TYPE_INDEX ||
      next.mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST
    ) {
      pending.push(...((await layout.readJson<ImageIndex>(next)).manifests ?? []));
    }
  }
  return [...layers];
}

/** What the symlink at `path` points to; undefined when it is not one. */
function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
