import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type Location, StackerError } from '../errors';
import type { Logger } from '../log';
import { OciLayout } from '../oci/layout';
import type { ImageConfig, ImageManifest } from '../oci/types';
import type { Layer } from '../parse/types';
import type { Roots } from '../storage/roots';
import { readImage } from './image';
import { registryBase } from './registry-base';
import { remoteTarball } from './remote-tar';

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

/** What fetching a base needs beyond the layer: where to cache, how to log, what to trust. */
export interface BaseContext {
  /** Pulled images go to `<stackerDir>/layer-bases/oci`, downloads to `<stackerDir>/downloads`. */
  stackerDir: string;
  /** Needed by `stacker://` tar bases (the source layer's files are read from here). */
  roots?: Roots;
  log: Logger;
  /** Read for auth files and CA certificates. */
  env: NodeJS.ProcessEnv;
  /** Use only what earlier builds pulled or downloaded; never the network (publish). */
  offline?: boolean;
  signal?: AbortSignal;
}

/**
 * Finds the base a layer starts from: a local OCI layout, an image pulled from a registry, a
 * tarball (local, downloaded, or from a layer built earlier), scratch, or a layer built
 * earlier. Without `context` (callers that only read local files) registry and remote tar
 * bases fail with a clear error.
 */
export async function resolveBase(
  layer: Layer,
  built: BuiltLayers,
  context?: BaseContext,
): Promise<Base> {
  const where: Location = {
    file: layer.file,
    ...layer.from.pos,
    layer: layer.name,
    directive: 'from',
  };
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
      if (url.startsWith('docker://')) {
        return registryBase({ layer, url, where, context: needContext(context, where) });
      }
      return ociBase(layer, url, where);

    case 'tar': {
      const path = url.includes('://')
        ? await remoteTarball({ layer, url, where, built, context: needContext(context, where) })
        : localPath(layer, url);
      const digest = await fileDigest(path, where);
      return { identity: `tar:${digest}`, tarball: path };
    }

    case 'docker':
      // containers/image transports: docker:// is a registry, oci: a local layout.
      if (url.startsWith('oci:')) return ociBase(layer, url.slice('oci:'.length), where);
      if (!url.startsWith('docker://')) {
        throw new StackerError(
          `unknown url scheme ${url.split(':')[0]} for ${url}`,
          where,
          'docker bases are docker://<registry>/<repository>:<tag> (or oci:<layout>:<tag>)',
        );
      }
      return registryBase({ layer, url, where, context: needContext(context, where) });
  }
}

function needContext(context: BaseContext | undefined, where: Location): BaseContext {
  if (context) return context;
  throw new StackerError(
    'this base needs the network or the stacker dir, which this caller did not provide',
    where,
    'a bug in the caller: pass a BaseContext to resolveBase',
  );
}

/** A local path from a stacker file, relative to the file's directory. */
function localPath(layer: Layer, path: string): string {
  return isAbsolute(path) ? path : resolve(layer.file, '..', path);
}

/** `oci` base: `<layout path>:<tag>`, the tag being everything after the first `:`. */
async function ociBase(layer: Layer, url: string, where: Location): Promise<Base> {
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
  const missing = image.manifest.layers.find((l) => !layout.hasBlob(l.digest));
  if (missing) {
    throw new StackerError(
      `image ${tag} in ${dir} is incomplete: layer blob ${missing.digest} is missing`,
      where,
      'copy the image into the layout again (skopeo copy, umoci, or the build that made it)',
    );
  }
  return { identity: `oci:${image.digest}`, image: { ...image, layout } };
}

async function fileDigest(path: string, where: Location): Promise<string> {
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new StackerError(`couldn't open ${path}: ${(err as Error).message}`, where);
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
