import { resolveBase } from '../bases/resolve';
import { missingBlobs } from '../build/blobs';
import type { AvailableLayer, BuildSettings } from '../build/context';
import { type KeyContext, keyParts } from '../build/layer';
import { layerKey, missReason } from '../cache/key';
import type { BuildCache, CacheEntry } from '../cache/store';
import type { Logger } from '../log';
import type { OciLayout } from '../oci/layout';
import type { ImageConfig, ImageManifest } from '../oci/types';
import type { StackerFile } from '../parse/types';
import type { BuildPlan } from '../plan/order';
import type { Roots } from '../storage/roots';

/** Whether a layer's current definition was built: its cache entry, or why there is none. */
export type CacheState = { entry: CacheEntry } | { reason: string };

/**
 * Works out, layer by layer in build order, whether each layer is cached exactly as a build
 * would look it up now: the same key (definition, base, imports, SOURCE_DATE_EPOCH,
 * settings), and its image still complete in the OCI dir. Nothing is fetched: registry bases
 * and http imports must have been pulled or downloaded by a build (`offline`), and layers
 * built on an uncached layer are uncached too. `stacker://` imports are read from the cached
 * images of the layers they name.
 */
export async function cacheStates(args: {
  plan: BuildPlan;
  files: Map<string, StackerFile>;
  settings: BuildSettings;
  roots: Roots;
  layout: OciLayout;
  cache: BuildCache;
  log: Logger;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}): Promise<Map<string, CacheState>> {
  const { plan, files, layout, cache } = args;
  const available = new Map<string, AvailableLayer>();
  const ctx: KeyContext = { ...args, available, offline: true };
  const states = new Map<string, CacheState>();

  for (const { layers } of plan.files) {
    for (const { layer } of layers) {
      const file = files.get(layer.file) as StackerFile;
      // A layer on an uncached parent is uncached for the parent's reason.
      const parent = layer.from.type === 'built' ? states.get(layer.from.tag ?? '') : undefined;
      if (parent && 'reason' in parent) {
        states.set(layer.name, { reason: `base layer ${layer.from.tag}: ${parent.reason}` });
        continue;
      }
      try {
        const base = await resolveBase(
          layer,
          { get: (name) => available.get(name) },
          { ...args.settings, roots: args.roots, log: args.log, env: args.env, offline: true },
        );
        const parts = await keyParts(ctx, layer, file, base);
        const entry = cache.get(layerKey(parts));
        if (!entry) {
          const before = cache.latestFor(layer.file, layer.name);
          states.set(layer.name, { reason: missReason(before?.parts, parts) });
          continue;
        }
        const missing = await missingBlobs(layout, entry.result.manifest);
        if (missing.length) {
          states.set(layer.name, { reason: `its image is gone from the OCI dir (${missing[0]})` });
          continue;
        }
        const manifest = await layout.readJson<ImageManifest>(entry.result.manifest);
        const config = await layout.readJson<ImageConfig>(manifest.config);
        available.set(layer.name, {
          key: entry.key,
          result: entry.result,
          image: { manifest, config, layout },
        });
        states.set(layer.name, { entry });
      } catch (err) {
        states.set(layer.name, { reason: (err as Error).message });
      }
    }
  }
  return states;
}
