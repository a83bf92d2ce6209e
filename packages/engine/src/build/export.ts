import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Base } from '../bases/resolve';
import { type CacheEntry, resultManifests } from '../cache/store';
import { OciLayout } from '../oci/layout';
import type { Descriptor, ImageManifest } from '../oci/types';
import { errnoCode, writeFileAtomic } from '../util/fs';
import { copyBlobs, missingBlobs } from './blobs';
import type { BuildContext } from './context';

/**
 * A layer exported on its own: `layer.json` (the cache entry) in an OCI layout holding the blobs
 * this layer added to its base image (manifest, config, new OCI layers), for each of its layer
 * types. With the exports of its ancestors (and its base layout) it is enough to restore the
 * layer without building it: this is what the Nx plugin stores as a layer task's output.
 */
export interface LayerExport {
  dir: string;
  entry: CacheEntry;
}

const ENTRY_FILE = 'layer.json';

/**
 * Writes the export of one layer to `dir` (replaced if present): the blobs of every image of
 * the entry (one per layer type), hard-linked from the OCI dir where possible. `baseLayers`
 * are the layers of the images it was built on (see baseLayersOfAllTypes), which the export
 * leaves out.
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

  const inherited = new Set(args.baseLayers.map((d) => d.digest));
  for (const [, descriptor] of resultManifests(entry.result)) {
    const manifest = await layout.readJson<ImageManifest>(descriptor);
    const own = manifest.layers.filter((d) => !inherited.has(d.digest));
    copyBlobs(layout, target, [descriptor, manifest.config, ...own]);
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, ENTRY_FILE), `${JSON.stringify(entry, null, 2)}\n`);
}

/** Every readable export found directly under the given store dirs. */
export function findExports(stores: string[]): LayerExport[] {
  const found: LayerExport[] = [];
  for (const store of stores) {
    const candidates = existsSync(join(store, ENTRY_FILE))
      ? [store]
      : safeList(store)
          .filter((name) => !name.startsWith('.')) // layer names never do; work in progress does
          .map((name) => join(store, name));
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
 * undefined when no export has that key or one of its images (one per layer type) cannot be
 * completed.
 */
export async function restoreExport(args: {
  key: string;
  exports: LayerExport[];
  layout: OciLayout;
  extraLayouts: OciLayout[];
}): Promise<CacheEntry | undefined> {
  const found = args.exports.find((e) => e.entry.key === args.key);
  if (!found) return undefined;

  // An export may vanish while we look (Nx replacing a sibling task's output): skip it.
  const opened = await Promise.all(
    args.exports.map((e) => OciLayout.open(e.dir, { create: false }).catch(() => undefined)),
  );
  const sources = [...opened.filter((l) => l !== undefined), ...args.extraLayouts];
  const manifests = resultManifests(found.entry.result).map(([, d]) => d);
  const missingOf = async () =>
    (await Promise.all(manifests.map((m) => missingBlobs(args.layout, m)))).flat();
  for (let missing = await missingOf(); ; missing = await missingOf()) {
    if (missing.length === 0) return found.entry;
    const digest = missing[0] as string;
    if (!sources.some((source) => linkOrCopy(source, args.layout, digest))) return undefined;
  }
}

/**
 * The layers of every image a layer was built on: its base image's and, for a `built` base,
 * those of the parent's images of its other layer types. An export leaves them out.
 */
export async function baseLayersOfAllTypes(
  ctx: Pick<BuildContext, 'available' | 'layout'>,
  base: Base,
): Promise<Descriptor[]> {
  const layers = [...(base.image?.manifest.layers ?? [])];
  const key = base.identity.startsWith('built:') ? base.identity.slice('built:'.length) : '';
  const parent = key ? [...ctx.available.values()].find((a) => a.key === key) : undefined;
  for (const [, descriptor] of parent ? resultManifests(parent.result) : []) {
    if (!ctx.layout.hasBlob(descriptor.digest)) continue;
    layers.push(...(await ctx.layout.readJson<ImageManifest>(descriptor)).layers);
  }
  return layers;
}

/** Puts blob `digest` of `from` into `to`; false when `from` does not have it (any more). */
function linkOrCopy(from: OciLayout, to: OciLayout, digest: string): boolean {
  if (!from.hasBlob(digest)) return false;
  try {
    linkSync(from.blobPath(digest), to.blobPath(digest));
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return true;
  }
  try {
    copyBlobs(from, to, [{ digest, mediaType: '', size: 0 }]);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
