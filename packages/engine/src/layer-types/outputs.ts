import type { Base } from '../bases/resolve';
import type { BuildContext } from '../build/context';
import type { Descriptor, ImageConfig, ImageManifest } from '../oci/types';
import type { BlobSettings } from './blob';
import { convertImage, type KnownConversions, type TypedLayer } from './convert';
import { type LayerKind, type LayerType, metadataKey, outputTypes } from './types';

/** The images a layer's build wrote, one per requested type. */
export interface TypedImages {
  /** The first (primary) type's manifest. */
  manifest: Descriptor;
  /** Every type's manifest, by kind. */
  manifests: Partial<Record<LayerKind, Descriptor>>;
  /** Every type's image by `<kind>+<verity>`, for overlay_metadata.json. */
  images: Record<string, { manifest: ImageManifest; config: ImageConfig }>;
}

/** How new layer blobs are made in this build. */
export function blobSettings(ctx: BuildContext): BlobSettings {
  return {
    layout: ctx.layout,
    sourceDateEpoch: ctx.settings.sourceDateEpoch,
    gzipLevel: ctx.settings.gzipLevel,
    env: ctx.env,
    log: ctx.log,
    signal: ctx.signal,
  };
}

/**
 * Writes `image` (complete: config edited, annotations set) once per type the build asks
 * for, converting the layers that are of another type (see convertImage): stacker's "one
 * image per layer type, same config except `rootfs.diff_ids`". Layers of a `built` base are
 * taken from the base's image of the same type when it has one, as stacker copies the
 * parent's image of each type. Tags nothing.
 */
export async function writeTypedImages(args: {
  ctx: BuildContext;
  /** The layer's name, for the log. */
  name: string;
  image: { manifest: ImageManifest; config: ImageConfig };
  base: Base;
}): Promise<TypedImages> {
  const { ctx, image, base } = args;
  const manifests: TypedImages['manifests'] = {};
  const images: TypedImages['images'] = {};
  let primary: Descriptor | undefined;
  for (const type of outputTypes(ctx.settings)) {
    const started = performance.now();
    const { made, ...typed } = await convertImage({
      image,
      type,
      roots: ctx.roots,
      settings: blobSettings(ctx),
      known: await knownFromBase(ctx, base, type),
    });
    if (made) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      ctx.log.info(`${args.name}: converted ${made} layer(s) to ${type.kind} in ${seconds}s`);
    }
    const written = await ctx.layout.writeImage(typed);
    primary ??= written;
    manifests[type.kind] = written;
    images[metadataKey(type)] = typed;
  }
  return { manifest: primary as Descriptor, manifests, images };
}

/**
 * The base's layers as layers of `type`, when the base is a layer built earlier with an
 * image of that type: its primary image and its `type` image list the same layers in the
 * same order.
 */
async function knownFromBase(
  ctx: BuildContext,
  base: Base,
  type: LayerType,
): Promise<KnownConversions> {
  const known = new Map<string, TypedLayer>();
  if (!base.identity.startsWith('built:')) return known;
  const key = base.identity.slice('built:'.length);
  const parent = [...ctx.available.values()].find((a) => a.key === key);
  const other = parent?.result.manifests?.[type.kind];
  if (!parent || !other || !ctx.layout.hasBlob(other.digest)) return known;

  const manifest = await ctx.layout.readJson<ImageManifest>(other);
  const config = await ctx.layout.readJson<ImageConfig>(manifest.config);
  const primary = parent.image.manifest.layers;
  if (primary.length !== manifest.layers.length) return known;
  for (const [i, layer] of primary.entries()) {
    const descriptor = manifest.layers[i];
    const diffId = config.rootfs.diff_ids[i];
    if (descriptor && diffId) known.set(layer.digest, { descriptor, diffId });
  }
  return known;
}
