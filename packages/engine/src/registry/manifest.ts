import { StackerError } from '../errors';
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_LAYER_TAR_GZIP,
  MEDIA_TYPE_MANIFEST,
} from '../oci/types';

/** The manifest types we can pull, most preferred first (the `Accept` header). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_DOCKER_MANIFEST,
].join(', ');

/** Whether a media type is an image index (or Docker manifest list). */
export function isIndexType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_INDEX || mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

/** Whether a media type is an image manifest (OCI or Docker schema 2). */
export function isManifestType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_MANIFEST || mediaType === MEDIA_TYPE_DOCKER_MANIFEST;
}

/**
 * The media type of a manifest the registry sent: its `Content-Type`, else the document's own
 * `mediaType`, else guessed from its shape (an OCI index lists `manifests`). Docker schema 1
 * and anything else unknown are refused: they cannot be stored as an OCI image.
 */
export function manifestMediaType(contentType: string | undefined, body: Buffer): string {
  let doc: { mediaType?: string; manifests?: unknown; schemaVersion?: number };
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new StackerError('the registry sent a manifest that is not JSON');
  }
  const header = contentType?.split(';')[0]?.trim();
  const candidates = [header, doc.mediaType].filter(
    (t): t is string => !!t && (isIndexType(t) || isManifestType(t)),
  );
  if (candidates[0]) return candidates[0];
  if (doc.schemaVersion === 1) {
    throw new StackerError(
      'the image is a Docker schema 1 manifest, which nx-stacker cannot read',
      {},
      'push the image again with a current client (it then gets a schema 2 or OCI manifest)',
    );
  }
  if (doc.schemaVersion === 2)
    return Array.isArray(doc.manifests) ? MEDIA_TYPE_INDEX : MEDIA_TYPE_MANIFEST;
  throw new StackerError(`unsupported manifest type ${header ?? doc.mediaType ?? '(none)'}`);
}

/** What an image is built for; `variant` narrows arm images (v6, v7, v8). */
export interface PlatformWanted {
  os: string;
  arch: string;
  variant?: string;
}

/**
 * Picks the manifest for `want` in an index, as containers/image does: os and architecture
 * must match; a wanted variant must match too, otherwise an entry without variant (or the
 * first match) is taken. The error lists the platforms the index has.
 */
export function selectPlatform(index: ImageIndex, want: PlatformWanted, what: string): Descriptor {
  const matches = index.manifests.filter(
    (m) =>
      isManifestType(m.mediaType) &&
      m.platform?.os === want.os &&
      m.platform?.architecture === want.arch &&
      (want.variant === undefined || m.platform?.variant === want.variant),
  );
  const chosen = matches.find((m) => m.platform?.variant === undefined) ?? matches[0];
  if (chosen) return chosen;

  // Attestation manifests (platform unknown/unknown) are no image to choose.
  const have = index.manifests
    .filter((m) => m.platform && m.platform.os !== 'unknown')
    .map((m) => platformText(m.platform as NonNullable<Descriptor['platform']>));
  const wanted = platformText({ os: want.os, architecture: want.arch, variant: want.variant });
  throw new StackerError(
    `no manifest for ${wanted} in ${what} (platforms: ${[...new Set(have)].join(', ') || 'none'})`,
    {},
    "set the layer's os: and arch: to one of these platforms",
  );
}

function platformText(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Docker schema 2 media types and their OCI equivalents (the blobs are the same bytes). */
const DOCKER_TO_OCI: Record<string, string> = {
  [MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP]: MEDIA_TYPE_LAYER_TAR_GZIP,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.container.image.v1+json': MEDIA_TYPE_CONFIG,
};

/**
 * The OCI manifest for a Docker schema 2 manifest, as containers/image writes one into an OCI
 * layout (and so as stacker's pulled bases are): the same config and layer blobs under OCI
 * media types. Deterministic, so the same Docker manifest always gives the same digest.
 * Layers of other types are kept as they are; extracting them fails later, naming the type.
 */
export function dockerToOci(bytes: Buffer): Buffer {
  const docker = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  const convert = (d: Descriptor): Descriptor => ({
    ...d,
    mediaType: DOCKER_TO_OCI[d.mediaType] ?? d.mediaType,
  });
  const oci: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: convert(docker.config),
    layers: docker.layers.map(convert),
  };
  return Buffer.from(JSON.stringify(oci));
}
