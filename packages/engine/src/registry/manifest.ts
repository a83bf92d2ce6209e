import { StackerError } from '../errors';
import {
  type Descriptor,
  type ImageIndex,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_INDEX,
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

  const have = index.manifests
    .filter((m) => m.platform)
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
