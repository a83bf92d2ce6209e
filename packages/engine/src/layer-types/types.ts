/**
 * Output layer types (`--layer-type`): what stacker calls a layer type is a blob format
 * (`tar`, `squashfs`, `erofs`) plus, for the two filesystem images, whether a dm-verity hash
 * tree is appended. One build makes one image per requested type, all with the same config
 * except `rootfs.diff_ids`.
 */
import { StackerError } from '../errors';
import {
  ANNOTATION_VERITY_ROOT_HASH,
  type Descriptor,
  MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_LAYER_TAR_GZIP,
  MEDIA_TYPE_LAYER_TAR_ZSTD,
} from '../oci/types';

export type LayerKind = 'tar' | 'squashfs' | 'erofs';

export const LAYER_KINDS: readonly LayerKind[] = ['tar', 'squashfs', 'erofs'];

/** One requested output type. `verity` is always false for tar. */
export interface LayerType {
  kind: LayerKind;
  verity: boolean;
}

export const TAR: LayerType = { kind: 'tar', verity: false };

/**
 * The types of `--layer-type` values, in the order given (the first is the primary type:
 * its blob names the content dir of a new layer). No value means `tar`; a value given twice
 * counts once. `verity` (on unless `--no-verity`) applies to squashfs and erofs.
 */
export function parseLayerTypes(names: string[] | undefined, verity = true): LayerType[] {
  const list = names ?? ['tar'];
  if (list.length === 0) throw new StackerError('must specify at least one output --layer-type');
  const types: LayerType[] = [];
  for (const name of list) {
    if (!(LAYER_KINDS as readonly string[]).includes(name)) {
      throw new StackerError(
        `unknown layer type: ${name}`,
        {},
        `valid types: ${LAYER_KINDS.join(', ')}`,
      );
    }
    const kind = name as LayerKind;
    if (types.some((t) => t.kind === kind)) continue;
    types.push({ kind, verity: kind !== 'tar' && verity });
  }
  return types;
}

/** stacker's `LayerName`: the tag of a layer's image of one type (verity does not show). */
export function layerTagName(name: string, kind: LayerKind): string {
  return kind === 'tar' ? name : `${name}-${kind}`;
}

/** The key stacker uses for a type in `overlay_metadata.json`: `<kind>+<verity>`. */
export function metadataKey(type: LayerType): string {
  return `${type.kind}+${type.verity}`;
}

/**
 * The types as they enter a layer's cache key. A tar-only build gives `tar`, as before
 * other types existed, so its keys did not change.
 */
export function typesKey(types: LayerType[]): string {
  return types.map((t) => (t.verity ? `${t.kind}+verity` : t.kind)).join(',');
}

/** The types of a `typesKey` string, or undefined when it is not one. */
export function parseTypesKey(key: string): LayerType[] | undefined {
  const types: LayerType[] = [];
  for (const part of key.split(',')) {
    const [kind, flag] = part.split('+');
    if (!(LAYER_KINDS as readonly string[]).includes(kind ?? '')) return undefined;
    if (flag !== undefined && flag !== 'verity') return undefined;
    types.push({ kind: kind as LayerKind, verity: flag === 'verity' });
  }
  return types;
}

/** Media types of tar layers; stacker reads all of them as (possibly gzipped) tar. */
const TAR_MEDIA_TYPES = new Set([
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_LAYER_TAR_GZIP,
  MEDIA_TYPE_LAYER_TAR_ZSTD,
  MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP,
]);

/** Media types of stacker's filesystem-image layers start with these (any compression). */
const SQUASHFS_PREFIX = 'application/vnd.stacker.image.layer.squashfs';
const EROFS_PREFIX = 'application/vnd.stacker.image.layer.erofs';

/** The kind of a layer's blob by its media type, or undefined for anything else. */
export function kindOfMediaType(mediaType: string): LayerKind | undefined {
  if (TAR_MEDIA_TYPES.has(mediaType)) return 'tar';
  if (isVariant(mediaType, SQUASHFS_PREFIX)) return 'squashfs';
  if (isVariant(mediaType, EROFS_PREFIX)) return 'erofs';
  return undefined;
}

function isVariant(mediaType: string, prefix: string): boolean {
  return mediaType === prefix || mediaType.startsWith(`${prefix}+`);
}

/**
 * Whether a layer already is of `type`, so an image of that type can use it as it is: same
 * kind, and for filesystem images a verity root hash exactly when verity is asked for (a
 * squashfs layer without verity is regenerated for a verity request, as in stacker).
 */
export function layerIsOfType(layer: Descriptor, type: LayerType): boolean {
  if (kindOfMediaType(layer.mediaType) !== type.kind) return false;
  if (type.kind === 'tar') return true;
  return (layer.annotations?.[ANNOTATION_VERITY_ROOT_HASH] !== undefined) === type.verity;
}

/** The types a build's settings ask for; settings made before layer types existed mean tar. */
export function outputTypes(settings: { layerTypes?: LayerType[] }): LayerType[] {
  return settings.layerTypes?.length ? settings.layerTypes : [TAR];
}
