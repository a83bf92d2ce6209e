import { copyFileSync, linkSync, renameSync, rmSync } from 'node:fs';
import type { OciLayout } from '../oci/layout';
import type { Descriptor, ImageManifest } from '../oci/types';
import { errnoCode } from '../util/fs';

/**
 * The digests of an image's blobs (manifest, config, layers) missing from `layout`; empty
 * when the image is complete. Reads the manifest only when it is there.
 */
export async function missingBlobs(layout: OciLayout, manifest: Descriptor): Promise<string[]> {
  if (!layout.hasBlob(manifest.digest)) return [manifest.digest];
  const m = await layout.readJson<ImageManifest>(manifest);
  return [m.config, ...m.layers].map((d) => d.digest).filter((d) => !layout.hasBlob(d));
}

/**
 * Puts the blobs `descs` of layout `from` into layout `to`: a hard link when both are on the
 * same filesystem, else a copy through a temp file. Blobs `to` already has are left alone.
 */
export function copyBlobs(from: OciLayout, to: OciLayout, descs: Descriptor[]): void {
  for (const { digest } of descs) {
    if (to.hasBlob(digest)) continue;
    const source = from.blobPath(digest);
    const target = to.blobPath(digest);
    try {
      linkSync(source, target);
      continue;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') continue;
      if (errnoCode(err) !== 'EXDEV' && errnoCode(err) !== 'EPERM') throw err;
    }
    const tmp = to.tempBlobPath();
    try {
      copyFileSync(source, tmp);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}
