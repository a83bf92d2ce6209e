import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { StackerError } from '../errors';
import { OciLayout } from '../oci/layout';
import type { ImageConfig, ImageManifest } from '../oci/types';
import type { Layer } from '../parse/types';
import { readImage } from './image';

/** An image to start a layer from, with where its blobs can be read. */
export interface SourceImage {
  manifest: ImageManifest;
  config: ImageConfig;
  /** The OCI layout holding the image's blobs. */
  layout: OciLayout;
}

/** What a layer starts from. */
export interface Base {
  /** Recorded in the layer's cache key: changes whenever the base's content changes. */
  identity: string;
  /** The image the layer's image is built on; undefined starts from an empty image. */
  image?: SourceImage;
  /** `tar` bases: the tarball extracted into the layer's own upper dir before `run`. */
  tarball?: string;
}

/** Results of layers built earlier in this build (or reused from the cache), by name. */
export interface BuiltLayers {
  /** The parent's cache key and image, or undefined when it was not built. */
  get(name: string): { key: string; image: SourceImage } | undefined;
}

/**
 * Finds the base a layer starts from. Reads local OCI layouts and tarballs; `docker` bases and
 * remote or `stacker://` tarballs are not supported yet and fail with a clear error.
 */
export async function resolveBase(layer: Layer, built: BuiltLayers): Promise<Base> {
  const where = { file: layer.file, ...layer.from.pos, layer: layer.name, directive: 'from' };
  const { type, url = '' } = layer.from;

  switch (type) {
    case 'scratch':
      return { identity: 'scratch' };

    case 'built': {
      const parent = built.get(layer.from.tag ?? '');
      if (!parent) {
        throw new StackerError(`couldn't find a build of base layer ${layer.from.tag}`, where);
      }
      return { identity: `built:${parent.key}`, image: parent.image };
    }

    case 'oci':
      return ociBase(layer, url, where);

    case 'tar': {
      if (url.includes('://')) {
        throw new StackerError(
          `tar bases from ${url.split('://')[0]}:// urls are not supported yet`,
          where,
          'download the tarball and use a local path, or build on an oci base',
        );
      }
      const path = localPath(layer, url);
      const digest = await fileDigest(path, where);
      return { identity: `tar:${digest}`, tarball: path };
    }

    case 'docker':
      throw new StackerError(
        'docker (registry) bases are not supported yet',
        where,
        'copy the image into a local OCI layout (skopeo copy docker://... oci:dir:tag) and ' +
          'use "type: oci" with "url: dir:tag"',
      );
  }
}

/** A local path from a stacker file, relative to the file's directory. */
function localPath(layer: Layer, path: string): string {
  return isAbsolute(path) ? path : resolve(layer.file, '..', path);
}

/** `oci` base: `<layout path>:<tag>`, the tag being everything after the first `:`. */
async function ociBase(layer: Layer, url: string, where: object): Promise<Base> {
  const colon = url.indexOf(':');
  if (colon < 0) throw new StackerError(`bad OCI tag: ${url}`, where, 'write url: <path>:<tag>');
  const dir = localPath(layer, url.slice(0, colon));
  const tag = url.slice(colon + 1);

  let layout: OciLayout;
  try {
    layout = await OciLayout.open(dir, { create: false });
  } catch (err) {
    throw new StackerError(`couldn't open OCI layout ${dir}: ${(err as Error).message}`, where);
  }
  const image = await readImage(layout, tag, { os: layer.os, arch: layer.arch }).catch(
    (err: unknown) => {
      throw new StackerError(
        `couldn't read image ${tag} in ${dir}: ${(err as Error).message}`,
        where,
      );
    },
  );
  return { identity: `oci:${image.digest}`, image: { ...image, layout } };
}

async function fileDigest(path: string, where: object): Promise<string> {
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new StackerError(`couldn't open ${path}: ${(err as Error).message}`, where);
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
