import { relative } from 'node:path';
import type { BuildSettings } from '../build/context';
import { gzipLevelOf, resolveDirs, sourceDateEpoch } from '../build/options';
import { loadSources } from '../build/sources';
import { BuildCache } from '../cache/store';
import { StackerError } from '../errors';
import { layerTagName, parseLayerTypes } from '../layer-types/types';
import { OciLayout } from '../oci/layout';
import { Roots } from '../storage/roots';
import { ENGINE_VERSION } from '../version';
import { cacheStates } from './cached';
import { Publisher } from './destination';
import { checkPublishOptions, type PublishOptions } from './options';
import {
  builtGzipLevel,
  builtSourceDateEpoch,
  keyLayerTypes,
  type Selected,
  selectLayers,
} from './select';

/** One image sent (or, with `showOnly`, that would be sent). */
export interface PublishedImage {
  file: string;
  layer: string;
  tag: string;
  /** `docker://<registry>/<repository>:<tag>` or `oci:<dir>:<name>`. */
  destination: string;
  /** The manifest digest, the same in the OCI dir and at the destination. */
  digest: string;
  published: boolean;
}

/**
 * `stacker publish`: sends the images of the given stacker files' layers, each under every
 * tag, to a registry (`docker://<registry>[/<namespace>]/<layer>:<tag>`) or an OCI layout
 * (`oci:<dir>:<layer>_<tag>`). A layer is published only when its cache entry matches what a
 * build would compute now (or with `force`, whatever its tag points at); build_only layers
 * are skipped. Everything is checked before anything is sent. The OCI dir is only read: a
 * failed publish leaves it as it was. Credentials are never logged or put in an error.
 */
export async function publish(opts: PublishOptions): Promise<PublishedImage[]> {
  const { log } = opts;
  const destination = checkPublishOptions(opts);
  const layerTypes = parseLayerTypes(opts.layerTypes);
  const env = opts.env ?? process.env;
  const dirs = resolveDirs(opts);
  const cwd = opts.cwd ?? process.cwd();
  const layout = await OciLayout.open(dirs.ociDir, { create: false });

  // Parse and plan as a build would, then find which layers are cached as they are now.
  const { files, plan, paths } = loadSources({ ...opts, dummyForMissing: true }, dirs);
  const cache = new BuildCache(dirs.stackerDir);
  const given = paths.map((p) => files.get(p)).filter((f) => f !== undefined);
  const settings: BuildSettings = {
    ...dirs,
    // Not given one, the key takes the build's: SOURCE_DATE_EPOCH is ours, not stacker's, and
    // a script that set it for the build alone must still publish what it built.
    sourceDateEpoch:
      sourceDateEpoch({ ...opts, env }) ??
      builtSourceDateEpoch({ files: given, cache }) ??
      undefined,
    noCache: false,
    debug: false,
    annotationsNamespace: opts.annotationsNamespace ?? 'io.stackeroci',
    fileAnnotations: true,
    version: ENGINE_VERSION,
    gzipLevel: gzipLevelOf(opts.gzipLevel, builtGzipLevel({ files: given, cache })),
    reportsOutcomes: false,
    layerTypes: keyLayerTypes({ requested: layerTypes, files: given, cache }),
  };
  const states = await cacheStates({
    plan,
    files,
    settings,
    roots: new Roots(dirs.rootsDir),
    layout,
    cache,
    log,
    env,
    signal: opts.signal,
  });

  // Decide everything before sending anything.
  const publisher = new Publisher(destination, {
    layout,
    credentials: opts.username
      ? { username: opts.username, password: opts.password ?? '', source: '--username/--password' }
      : undefined,
    skipTls: opts.skipTls ?? false,
    env,
    log,
    signal: opts.signal,
  });
  const selected = await selectLayers({
    files: given,
    all: files,
    states,
    layout,
    images: opts.images,
    force: opts.force ?? false,
    kinds: layerTypes.map((t) => t.kind),
    password: opts.password,
    registry: publisher.registry(),
    log,
  });
  return sendAll({ opts, publisher, selected, cwd });
}

/** Sends each selected layer under each tag (or only logs it, with `showOnly`). */
async function sendAll(args: {
  opts: PublishOptions;
  publisher: Publisher;
  selected: Selected[];
  cwd: string;
}): Promise<PublishedImage[]> {
  const { opts, publisher, selected, cwd } = args;
  const { log } = opts;
  const out: PublishedImage[] = [];
  for (const item of selected) {
    const shown = relative(cwd, item.file) || item.file;
    for (const given of opts.tags) {
      const tag = layerTagName(given, item.kind);
      const where = publisher.describe(item.layer, tag);
      const image = { file: item.file, layer: item.layer, tag, destination: where };
      if (opts.showOnly) {
        log.info(`would publish: ${shown} ${item.layer} to ${where}`);
        out.push({ ...image, digest: item.manifest.digest, published: false });
        continue;
      }
      log.info(`publishing ${shown} ${item.layer} to ${where}`);
      try {
        log.info(await publisher.send({ ...item, tag }));
      } catch (err) {
        opts.signal?.throwIfAborted();
        throw new StackerError(
          `couldn't publish layer ${item.layer}: ${(err as Error).message}`,
          { file: item.file, layer: item.layer, step: 'publish' },
          err instanceof StackerError ? err.hint : undefined,
          { cause: err },
        );
      }
      out.push({ ...image, digest: item.manifest.digest, published: true });
    }
  }
  return out;
}
