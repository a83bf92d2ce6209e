import { StackerError } from '../errors';
import type { Logger } from '../log';
import type { OciLayout } from '../oci/layout';
import type { Descriptor, ImageConfig, ImageManifest } from '../oci/types';
import type { Layer, StackerFile } from '../parse/types';
import { parseImageReference } from '../registry/reference';
import type { CacheState } from './cached';

/** A layer to publish and the image that stands for it. */
export interface Selected {
  file: string;
  layer: string;
  manifest: Descriptor;
  /** The destination registry's repository its base was pulled from, for blob mounts. */
  baseRepository?: string;
}

/** Passwords shorter than this are not looked for in images: too many false alarms. */
const MIN_CHECKED_PASSWORD = 8;

/**
 * The layers of `files` to publish, in file order: build_only layers are skipped (logged as
 * stacker does), `images` narrows the list, and each layer must be cached as it is now —
 * unless `force`, which takes the image its tag points at. A layer whose image carries the
 * destination password (a `--substitute` that ended up in the stacker_yaml annotation, a
 * label or the environment) is refused. Throws before anything is sent.
 */
export async function selectLayers(args: {
  files: StackerFile[];
  all: Map<string, StackerFile>;
  states: Map<string, CacheState>;
  layout: OciLayout;
  images?: string[];
  force: boolean;
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

      const state = states.get(layer.name);
      let manifest = state && 'entry' in state ? state.entry.result.manifest : undefined;
      if (!manifest && args.force) manifest = layout.resolveTag(layer.name);
      if (!manifest) {
        const reason = state && 'reason' in state ? state.reason : 'not built';
        throw new StackerError(
          `layer needs to be rebuilt before publishing: ${layer.name}`,
          where,
          `${reason}; build it first` +
            (args.force ? '' : ' (or publish its tagged image as it is with --force)'),
        );
      }
      await refuseSecrets(layout, manifest, args.password, where);
      selected.push({
        file: file.path,
        layer: layer.name,
        manifest,
        baseRepository: baseRepository(layer, byName, args.registry),
      });
    }
  }
  return selected;
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
