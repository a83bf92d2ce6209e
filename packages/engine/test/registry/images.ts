/**
 * Base images for the registry tests, made offline with the project's own layout code: the
 * busybox image, variants of it with one more layer, and a two-platform image index.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../../src/bases/image';
import { copyBlobs } from '../../src/build/blobs';
import { OciLayout } from '../../src/oci/layout';
import {
  type Descriptor,
  type ImageIndex,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../../src/oci/types';
import { packLayer } from '../../src/pack/pack-layer';
import { busyboxLayout, writeFiles } from '../helpers';

const AMD64 = { os: 'linux', arch: 'amd64' };

/** A fresh layout dir, removed when the process exits. */
function newLayoutDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-images-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'oci');
}

/**
 * Writes into `layoutDir` (created when missing) the busybox image plus one layer holding
 * `files`, for `architecture` (the config's; the layers are the same), tagged `tag`.
 * Returns the manifest descriptor.
 */
export async function variantImage(args: {
  layoutDir: string;
  tag: string;
  files: Record<string, string>;
  architecture?: string;
  variant?: string;
}): Promise<Descriptor> {
  const base = await OciLayout.open(await busyboxLayout(), { create: false });
  const busybox = await readImage(base, 'busybox', AMD64);
  const layout = await OciLayout.open(args.layoutDir, { create: true });
  copyBlobs(base, layout, [busybox.manifest.config, ...busybox.manifest.layers]);

  const tree = mkdtempSync(join(tmpdir(), 'nx-stacker-variant-'));
  try {
    writeFiles(tree, args.files);
    const layer = await packLayer({ dir: tree, layout, xattrs: new Map(), sourceDateEpoch: 0 });
    const manifest = await layout.writeImage({
      manifest: { ...busybox.manifest, layers: [...busybox.manifest.layers, layer.descriptor] },
      config: {
        ...busybox.config,
        architecture: args.architecture ?? 'amd64',
        ...(args.variant ? { variant: args.variant } : {}),
        rootfs: { type: 'layers', diff_ids: [...busybox.config.rootfs.diff_ids, layer.diffId] },
      },
    });
    await layout.updateTags([{ name: args.tag, descriptor: manifest }]);
    return manifest;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** A layout with one busybox variant tagged `tag`; returns the layout dir. */
export async function variantLayout(tag: string, files: Record<string, string>): Promise<string> {
  const dir = newLayoutDir();
  await variantImage({ layoutDir: dir, tag, files });
  return dir;
}

/**
 * A layout whose tag `multi` is an image index of two images: linux/amd64 (with
 * /platform = amd64) and linux/arm64/v8 (with /platform = arm64).
 */
export async function multiPlatformLayout(): Promise<string> {
  const dir = newLayoutDir();
  mkdirSync(dir, { recursive: true });
  const amd = await variantImage({ layoutDir: dir, tag: 'amd', files: { platform: 'amd64\n' } });
  const arm = await variantImage({
    layoutDir: dir,
    tag: 'arm',
    files: { platform: 'arm64\n' },
    architecture: 'arm64',
    variant: 'v8',
  });
  const layout = await OciLayout.open(dir, { create: false });
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_INDEX,
    manifests: [
      { ...amd, mediaType: MEDIA_TYPE_MANIFEST, platform: { os: 'linux', architecture: 'amd64' } },
      {
        ...arm,
        mediaType: MEDIA_TYPE_MANIFEST,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
  };
  const desc = await layout.writeBlob(JSON.stringify(index), MEDIA_TYPE_INDEX);
  await layout.updateTags([{ name: 'multi', descriptor: desc }]);
  await layout.removeTags(['amd', 'arm']);
  return dir;
}
