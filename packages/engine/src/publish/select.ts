import type { BuildCache, CacheEntry } from '../cache/store';
import { resultManifests } from '../cache/store';
import { StackerError } from '../errors';
import { type LayerKind, type LayerType, layerTagName, parseTypesKey } from '../layer-types/types';
import type { Logger } from '../log';
import type { OciLayout } from '../oci/layout';
import type { Descriptor, ImageConfig, ImageManifest } from '../oci/types';
import type { Layer, StackerFile } from '../parse/types';
import { parseImageReference } from '../registry/reference';
import type { CacheState } from './cached';

/** A layer's image of one layer type to publish. */
export interface Selected {
  file: string;
  layer: string;
  /** The layer type: the destination tag gets its suffix (`<tag>-squashfs`, see layerTagName). */
  kind: LayerKind;
  manifest: Descriptor;
  /** The destination registry's repository its base was pulled from, for blob mounts. */
  baseRepository?: string;
}

/** Passwords shorter than this are not looked for in images: too many false alarms. */
const MIN_CHECKED_PASSWORD = 8;

/**
 * The images of `files`' layers to publish, in file order, one per layer and layer type (in
 * the order of `kinds`, default tar): build_only layers are skipped (logged as stacker does),
 * `images` narrows the list, and each layer must be cached as it is now, with an image of
 * each type — unless `force`, which takes the image its tag (`<layer>`, `<layer>-squashfs`,
 * `<layer>-erofs`) points at. A layer whose image carries the destination password (a
 * `--substitute` that ended up in the stacker_yaml annotation, a label or the environment)
 * is refused. Throws before anything is sent.
 */
export async function selectLayers(args: {
  files: StackerFile[];
  all: Map<string, StackerFile>;
  states: Map<string, CacheState>;
  layout: OciLayout;
  images?: string[];
  force: boolean;
  kinds?: LayerKind[];
  password?: string;
  registry?: string;
  log: Logger;
}): Promise<Selected[]> {
  const { files, states, layout, log } = args;
  const byName = new Map<string, Layer>();
  for (const f of args.all.values()) for (const l of f.layers) byName.set(l.name, l);
  const mine = new Set(files.flatMap((f) => f.layers.map((l) => l.name)));
  for (const name of args.images ?? []) {
    if (!mine.has(name)) {
      throw new StackerError(
        `layer cannot be found in stackerfile: ${name}`,
        { step: 'publish' },
        `layers: ${[...mine].join(', ')}`,
      );
    }
  }

  const selected: Selected[] = [];
  for (const file of files) {
    for (const layer of file.layers) {
      const where = { file: file.path, layer: layer.name, step: 'publish' };
      if (layer.buildOnly) {
        log.info(`will not publish: ${file.path} build_only ${layer.name}`);
        continue;
      }
      if (args.images && !args.images.includes(layer.name)) continue;

      for (const kind of args.kinds ?? ['tar']) {
        const state = states.get(layer.name);
        const manifest = imageToPublish({ state, kind, layout, force: args.force, layer });
        await refuseSecrets(layout, manifest, args.password, where);
        selected.push({
          file: file.path,
          layer: layer.name,
          kind,
          manifest,
          baseRepository: baseRepository(layer, byName, args.registry),
        });
      }
    }
  }
  return selected;
}

/**
 * The manifest of a layer's image of `kind`: from its cache entry, else (with `force`) the
 * one its tag points at. Throws when there is none.
 */
function imageToPublish(args: {
  state: CacheState | undefined;
  kind: LayerKind;
  layout: OciLayout;
  force: boolean;
  layer: Layer;
}): Descriptor {
  const { state, kind, layer } = args;
  const where = { file: layer.file, layer: layer.name, step: 'publish' };
  const entry = state && 'entry' in state ? state.entry : undefined;
  let manifest = entry && resultManifests(entry.result).find(([k]) => k === kind)?.[1];
  if (!manifest && args.force) manifest = args.layout.resolveTag(layerTagName(layer.name, kind));
  if (manifest) return manifest;

  let reason = state && 'reason' in state ? state.reason : 'not built';
  if (entry) reason = `it was built without --layer-type ${kind}`;
  throw new StackerError(
    `layer needs to be rebuilt before publishing: ${layer.name}`,
    where,
    `${reason}; build it first` +
      (args.force ? '' : ' (or publish its tagged image as it is with --force)'),
  );
}

/**
 * The layer types to compute cache keys with. A build's layer types are part of its keys,
 * and publish may ask for fewer of them (only the squashfs images of a tar and squashfs
 * build): when the newest cache entry of the files' first cached layer was built with every
 * requested kind, its types are the ones; otherwise the requested ones.
 */
export function keyLayerTypes(args: {
  requested: LayerType[];
  files: StackerFile[];
  cache: BuildCache;
}): LayerType[] {
  for (const entry of latestEntries(args)) {
    const built = parseTypesKey(entry.parts.settings.split(';')[0] ?? '');
    const covers = args.requested.every((r) => built?.some((b) => b.kind === r.kind));
    return built && covers ? built : args.requested;
  }
  return args.requested;
}

/**
 * The gzip level the newest cache entry of the first layer with one was built with (its
 * settings key holds `gzip<level>`), so that `publish` finds layers built with another level
 * than the default without being told; undefined when none was built.
 */
export function builtGzipLevel(args: {
  files: StackerFile[];
  cache: BuildCache;
}): number | undefined {
  for (const entry of latestEntries(args)) {
    const level = entry.parts.settings.split(';')[1]?.match(/^gzip([1-9])$/)?.[1];
    if (level) return Number(level);
  }
  return undefined;
}

/**
 * The SOURCE_DATE_EPOCH the last build of the given files used (null: none), for a publish
 * that is not given one: the build's script may have set it for the build step alone.
 */
export function builtSourceDateEpoch(args: {
  files: StackerFile[];
  cache: BuildCache;
}): number | null | undefined {
  for (const entry of latestEntries(args)) return entry.parts.sourceDateEpoch;
  return undefined;
}

/** The newest cache entry of each layer of `files` that has one, in file order. */
function* latestEntries(args: { files: StackerFile[]; cache: BuildCache }): Generator<CacheEntry> {
  for (const file of args.files) {
    for (const layer of file.layers) {
      const entry = args.cache.latestFor(layer.file, layer.name);
      if (entry) yield entry;
    }
  }
}

/** Refuses an image whose annotations, labels or environment contain `password`. */
async function refuseSecrets(
  layout: OciLayout,
  desc: Descriptor,
  password: string | undefined,
  where: { file: string; layer: string; step: string },
): Promise<void> {
  if (!password || password.length < MIN_CHECKED_PASSWORD) return;
  const manifest = await layout.readJson<ImageManifest>(desc);
  const config = await layout.readJson<ImageConfig>(manifest.config);
  const values = [
    ...Object.values(manifest.annotations ?? {}),
    ...Object.values(config.config?.Labels ?? {}),
    ...(config.config?.Env ?? []),
  ];
  if (values.some((v) => v.includes(password))) {
    throw new StackerError(
      'the image contains the password given with --password (in an annotation, a label or ' +
        'its environment); nothing was published',
      where,
      'rebuild without passing the password into the stacker file (e.g. with --substitute): ' +
        'the stacker_yaml annotation holds the file after substitution',
    );
  }
}

/** The repository of `registry` the layer's image chain was pulled from, if any. */
function baseRepository(
  layer: Layer,
  byName: Map<string, Layer>,
  registry: string | undefined,
): string | undefined {
  if (!registry) return undefined;
  let current: Layer | undefined = layer;
  for (let hops = 0; current && hops < 1000; hops++) {
    const { type, url = '', tag } = current.from;
    if (type === 'built') {
      current = byName.get(tag ?? '');
      continue;
    }
    if (!url.startsWith('docker://') || (type !== 'docker' && type !== 'oci')) return undefined;
    try {
      const ref = parseImageReference(url);
      return ref.registry === registry ? ref.repository : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
