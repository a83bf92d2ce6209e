import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheEntry } from '../cache/store';
import { OciLayout } from '../oci/layout';
import type { Descriptor, ImageManifest } from '../oci/types';
import { writeFileAtomic } from '../util/fs';
import { copyBlobs, missingBlobs } from './blobs';

/**
 * A layer exported on its own: `layer.json` (the cache entry) in an OCI layout holding the blobs
 * this layer added to its base image (manifest, config, new OCI layers). With the exports of
 * its ancestors (and its base layout) it is enough to restore the layer without building it:
 * this is what the Nx plugin stores as a layer task's output.
 */
export interface LayerExport {
  dir: string;
  entry: CacheEntry;
}

const ENTRY_FILE = 'layer.json';

/**
 * Writes the export of one layer to `dir` (replaced if present). Blobs are hard-linked from
 * the OCI dir where possible. `baseLayers` are the layers of the image it was built on, which
 * the export leaves out.
 */
export async function exportLayer(args: {
  dir: string;
  layout: OciLayout;
  entry: CacheEntry;
  baseLayers: Descriptor[];
}): Promise<void> {
  const { dir, layout, entry } = args;
  rmSync(dir, { recursive: true, force: true });
  const target = await OciLayout.open(dir, { create: true });

  const manifest = await layout.readJson<ImageManifest>(entry.result.manifest);
  const inherited = new Set(args.baseLayers.map((d) => d.digest));
  const own = manifest.layers.filter((d) => !inherited.has(d.digest));
  copyBlobs(layout, target, [entry.result.manifest, manifest.config, ...own]);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, ENTRY_FILE), `${JSON.stringify(entry, null, 2)}\n`);
}

/** Every readable export found directly under the given store dirs. */
export function findExports(stores: string[]): LayerExport[] {
  const found: LayerExport[] = [];
  for (const store of stores) {
    const candidates = existsSync(join(store, ENTRY_FILE))
      ? [store]
      : safeList(store).map((name) => join(store, name));
    for (const dir of candidates) {
      try {
        const entry = JSON.parse(readFileSync(join(dir, ENTRY_FILE), 'utf8')) as CacheEntry;
        found.push({ dir, entry });
      } catch {
        // Not an export (or a partial one): ignore it.
      }
    }
  }
  return found;
}

/**
 * Restores the export with `key` into the OCI dir: links its blobs, then fetches any blob still
 * missing from the other exports and `extraLayouts` (the base layout). Returns the entry, or
 * undefined when no export has that key or its image cannot be completed.
 */
export async function restoreExport(args: {
  key: string;
  exports: LayerExport[];
  layout: OciLayout;
  extraLayouts: OciLayout[];
}): Promise<CacheEntry | undefined> {
  const found = args.exports.find((e) => e.entry.key === args.key);
  if (!found) return undefined;

  const sources = [
    ...(await Promise.all(args.exports.map((e) => OciLayout.open(e.dir, { create: false })))),
    ...args.extraLayouts,
  ];
  for (let missing = await missingBlobs(args.layout, found.entry.result.manifest); ; ) {
    if (missing.length === 0) return found.entry;
    const digest = missing[0] as string;
    const source = sources.find((s) => s.hasBlob(digest));
    if (!source) return undefined;
    linkOrCopy(source, args.layout, digest);
    missing = await missingBlobs(args.layout, found.entry.result.manifest);
  }
}

function linkOrCopy(from: OciLayout, to: OciLayout, digest: string): void {
  try {
    linkSync(from.blobPath(digest), to.blobPath(digest));
  } catch {
    copyBlobs(from, to, [{ digest, mediaType: '', size: 0 }]);
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
