import { join } from 'node:path';
import { type Location, StackerError } from '../errors';
import { OciLayout } from '../oci/layout';
import type { Layer } from '../parse/types';
import { pullImage } from '../registry/pull';
import { cacheTagFor, type ImageReference, parseImageReference } from '../registry/reference';
import { readManifest } from './image';
import type { Base, BaseContext } from './resolve';

/**
 * A base from a registry (`type: docker`, or `type: oci` with a `docker://` url): pulled into
 * `<stacker dir>/layer-bases/oci`, where stacker keeps pulled bases, under a tag naming the
 * reference and platform (see `cacheTagFor`), then used like a local OCI base; the manifest
 * digest is the base's identity. Each build asks the registry whether the tag moved; blobs
 * pulled before are not fetched again. `offline` (publish) uses only what was pulled before.
 */
export async function registryBase(args: {
  layer: Layer;
  url: string;
  where: Location;
  context: BaseContext;
}): Promise<Base> {
  const { layer, url, where, context } = args;
  const ref = parseReference(url, where);
  const platform = { os: layer.os, arch: layer.arch };
  const layout = await OciLayout.open(join(context.stackerDir, 'layer-bases', 'oci'), {
    create: true,
  });
  const cacheTag = cacheTagFor(ref, platform);

  let manifest = layout.resolveTag(cacheTag);
  if (context.offline) {
    if (!manifest) {
      throw new StackerError(
        `base image ${ref.text} has not been pulled into ${layout.dir}`,
        where,
        'build the layer first',
      );
    }
  } else {
    context.log.info(`loading ${ref.text}`);
    try {
      const pulled = await pullImage({
        reference: ref,
        platform,
        layout,
        cacheTag,
        insecure: layer.from.insecure,
        env: context.env,
        log: context.log,
        signal: context.signal,
      });
      manifest = pulled.manifest;
    } catch (err) {
      context.signal?.throwIfAborted();
      throw pullError(err, ref.text, where);
    }
  }

  const image = await readManifest(layout, manifest, platform);
  return { identity: `oci:${image.digest}`, image: { ...image, layout } };
}

function parseReference(url: string, where: Location): ImageReference {
  try {
    return parseImageReference(url);
  } catch (err) {
    throw err instanceof StackerError ? err.at(where) : err;
  }
}

/** stacker's `couldn't import base layer <ref>: …`, keeping the cause's hint. */
function pullError(err: unknown, ref: string, where: Location): StackerError {
  const cause = err as Error;
  const hint = err instanceof StackerError ? err.hint : undefined;
  return new StackerError(`couldn't import base layer ${ref}: ${cause.message}`, where, hint, {
    cause: err,
  });
}
