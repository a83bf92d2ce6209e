import type { OciLayout } from '../oci/layout';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../oci/types';

/** An image read from a layout: its manifest's digest, the manifest and the config. */
export interface ReadImage {
  digest: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

/**
 * Reads the image tagged `tag`. A tag pointing at an image index picks the manifest for the
 * platform (os, architecture), as stacker does for multi-platform bases.
 */
export async function readImage(
  layout: OciLayout,
  tag: string,
  platform: { os: string; arch: string },
): Promise<ReadImage> {
  const desc = layout.resolveTag(tag);
  if (!desc) {
    const known = layout.tags().map((t) => t.name);
    throw new Error(`no tag ${tag} (tags: ${known.join(', ') || 'none'})`);
  }
  return readManifest(layout, desc, platform);
}

/** Reads the manifest `desc` points at (through an index if needed) and its config. */
export async function readManifest(
  layout: OciLayout,
  desc: Descriptor,
  platform: { os: string; arch: string },
): Promise<ReadImage> {
  if (desc.mediaType === MEDIA_TYPE_INDEX || desc.mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST) {
    const index = await layout.readJson<ImageIndex>(desc);
    const match = index.manifests.find(
      (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.arch,
    );
    if (!match) {
      const have = index.manifests
        .map((m) => `${m.platform?.os ?? '?'}/${m.platform?.architecture ?? '?'}`)
        .join(', ');
      throw new Error(`no manifest for ${platform.os}/${platform.arch} (platforms: ${have})`);
    }
    return readManifest(layout, match, platform);
  }
  if (desc.mediaType !== MEDIA_TYPE_MANIFEST && desc.mediaType !== MEDIA_TYPE_DOCKER_MANIFEST) {
    throw new Error(`descriptor does not point to a manifest: ${desc.mediaType}`);
  }
  const manifest = await layout.readJson<ImageManifest>(desc);
  const config = await layout.readJson<ImageConfig>(manifest.config);
  return { digest: desc.digest, manifest, config };
}
