/**
 * Converting layers and images between layer types. Every layer of an image we write has its
 * content extracted in the roots dir (see Roots), so a layer of another type is made from
 * that directory, and its content dir becomes a symlink `sha256_<new>` -> `sha256_<old>`:
 * both blobs hold the same tree.
 *
 * A conversion is remembered next to the source's content (`converted-<type>.json`), so a
 * layer is converted once, not once per image that contains it: the squashfs image of a
 * child then shares its parent's squashfs layers even where conversions do not reproduce
 * (without SOURCE_DATE_EPOCH).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor, ImageConfig, ImageManifest } from '../oci/types';
import { digestDirName, type Roots } from '../storage/roots';
import { writeFileAtomic } from '../util/fs';
import { type BlobSettings, makeLayerBlob } from './blob';
import { type LayerType, layerIsOfType } from './types';

/** A layer of some type: its descriptor and its entry in `rootfs.diff_ids`. */
export interface TypedLayer {
  descriptor: Descriptor;
  diffId: string;
}

/** Conversions known in advance, by source layer digest (an ancestor's other images). */
export type KnownConversions = ReadonlyMap<string, TypedLayer>;

/**
 * The image `image` as an image of `type`: the same manifest and config, each layer that
 * is not of `type` replaced by its conversion (from `known`, from an earlier conversion, or
 * made now from its content dir), and `rootfs.diff_ids` to match. Layers whose blob is not
 * in `layout` yet are extracted from there first, so `layout` must hold them. The result is
 * not written; the new blobs are. `made` counts the layers converted now.
 */
export async function convertImage(args: {
  image: { manifest: ImageManifest; config: ImageConfig };
  type: LayerType;
  roots: Roots;
  settings: BlobSettings;
  known?: KnownConversions;
}): Promise<{ manifest: ImageManifest; config: ImageConfig; made: number }> {
  const { image, type } = args;
  const manifest = structuredClone(image.manifest);
  const config = structuredClone(image.config);
  let made = 0;
  for (const [i, layer] of image.manifest.layers.entries()) {
    if (layerIsOfType(layer, type)) continue;
    const hinted = args.known?.get(layer.digest);
    const usable =
      hinted &&
      layerIsOfType(hinted.descriptor, type) &&
      args.settings.layout.hasBlob(hinted.descriptor.digest);
    const converted = usable ? { ...hinted, made: false } : await convertLayer({ ...args, layer });
    if (converted.made) made++;
    manifest.layers[i] = converted.descriptor;
    config.rootfs.diff_ids[i] = converted.diffId;
  }
  return { manifest, config, made };
}

/** What a remembered conversion was made with; a different setting makes it stale. */
interface Remembered extends TypedLayer {
  sourceDateEpoch: number | null;
  gzipLevel: number;
}

/**
 * The layer `layer` as a layer of `type`: remembered from an earlier conversion whose blob
 * is still in the OCI dir, or made from the layer's content dir (extracted first if needed;
 * `made` is then true).
 */
export async function convertLayer(args: {
  layer: Descriptor;
  type: LayerType;
  roots: Roots;
  settings: BlobSettings;
}): Promise<TypedLayer & { made: boolean }> {
  const { layer, type, roots, settings } = args;
  const memo = memoPath(roots, layer.digest, type);
  const before = readMemo(memo);
  if (
    before &&
    before.sourceDateEpoch === (settings.sourceDateEpoch ?? null) &&
    (type.kind !== 'tar' || before.gzipLevel === settings.gzipLevel) &&
    settings.layout.hasBlob(before.descriptor.digest)
  ) {
    return { descriptor: before.descriptor, diffId: before.diffId, made: false };
  }

  const dir = await roots.ensureExtracted(layer, settings.layout.blobPath(layer.digest));
  const made = await makeLayerBlob({ dir, type, settings });
  roots.linkContent(made.descriptor.digest, layer.digest);
  const remembered: Remembered = {
    descriptor: made.descriptor,
    diffId: made.diffId,
    sourceDateEpoch: settings.sourceDateEpoch ?? null,
    gzipLevel: settings.gzipLevel,
  };
  writeFileAtomic(memo, `${JSON.stringify(remembered)}\n`);
  settings.log.debug(`converted layer ${layer.digest} to ${type.kind}: ${made.descriptor.digest}`);
  return { descriptor: made.descriptor, diffId: made.diffId, made: true };
}

function memoPath(roots: Roots, digest: string, type: LayerType): string {
  const name = `converted-${type.kind}${type.verity ? '+verity' : ''}.json`;
  return join(roots.dir, digestDirName(digest), name);
}

function readMemo(path: string): Remembered | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Remembered;
  } catch {
    return undefined;
  }
}
