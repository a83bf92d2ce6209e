import { readManifest } from '../bases/image';
import { StackerError } from '../errors';
import { digestHex } from '../oci/digest';
import { OciLayout } from '../oci/layout';
import { type ImageConfig, type ImageManifest, MEDIA_TYPE_CONFIG } from '../oci/types';
import { hostArch } from '../parse';

/** One tagged image of the OCI dir, as `inspect` shows it. */
export interface InspectedImage {
  tag: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

/**
 * Reads the image tagged `tag`, or every tagged image in index order, from the OCI dir.
 * A tag pointing at an image index is shown for the host's platform. Fails with a
 * StackerError naming the tags there are when `tag` is not one of them, and with stacker's
 * `bad image config type` when a manifest's config is not an OCI image config.
 */
export async function inspectImages(opts: {
  ociDir: string;
  tag?: string;
}): Promise<InspectedImage[]> {
  const layout = await OciLayout.open(opts.ociDir, { create: false });
  const tags = layout.tags();
  const wanted = opts.tag === undefined ? tags : tags.filter((t) => t.name === opts.tag);
  if (opts.tag !== undefined && wanted.length === 0) {
    const known = tags.map((t) => t.name).join(', ');
    throw new StackerError(
      `no tag ${opts.tag} in ${opts.ociDir}`,
      {},
      known ? `tags: ${known}` : 'the OCI dir has no tags; build something first',
    );
  }

  const images: InspectedImage[] = [];
  for (const { name, descriptor } of wanted) {
    const image = await readManifest(layout, descriptor, { os: 'linux', arch: hostArch() }).catch(
      (err: unknown) => {
        throw new StackerError(`couldn't read image ${name}: ${(err as Error).message}`);
      },
    );
    if (image.manifest.config.mediaType !== MEDIA_TYPE_CONFIG) {
      throw new StackerError(`bad image config type: ${image.manifest.config.mediaType}`, {
        layer: name,
      });
    }
    images.push({ tag: name, manifest: image.manifest, config: image.config });
  }
  return images;
}

/**
 * stacker's text for `inspect` (spec 7.5): per image the tag, one line per OCI layer
 * (`\tlayer <i>: <12 hex>... (<size>, <media type>)`), the manifest annotations (sorted by
 * key; stacker's order is random) and the image config as indented JSON.
 */
export function formatInspect(images: InspectedImage[]): string {
  const lines: string[] = [];
  for (const { tag, manifest, config } of images) {
    lines.push(tag);
    manifest.layers.forEach((layer, i) => {
      const hex = digestHex(layer.digest).slice(0, 12);
      lines.push(`\tlayer ${i}: ${hex}... (${humanBytes(layer.size)}, ${layer.mediaType})`);
    });
    const annotations = Object.entries(manifest.annotations ?? {}).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    if (annotations.length > 0) {
      lines.push('Annotations:');
      for (const [key, value] of annotations) lines.push(`  ${key}: ${value}`);
    }
    lines.push('Image config:', JSON.stringify(config, null, 2));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * A size in SI units as stacker prints it (go-humanize's `Bytes`): `42 B`, `1.2 kB`,
 * `12 MB`; one decimal below 10 of a unit, none above.
 */
export function humanBytes(size: number): string {
  if (size < 10) return `${size} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const exp = Math.min(Math.floor(Math.log(size) / Math.log(1000)), units.length - 1);
  const value = Math.floor((size / 1000 ** exp) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${units[exp]}`;
}
