import { dirname } from 'node:path';
import { type Base, resolveBase } from '../bases/resolve';
import { CACHE_VERSION, definitionHash, type KeyParts, layerKey, missReason } from '../cache/key';
import { type CacheEntry, resultManifests } from '../cache/store';
import { wrapError } from '../errors';
import { importDigest } from '../imports';
import { bindDigests, hasUntrackedBinds } from '../imports/bind-digests';
import { overlayDirDigests } from '../imports/overlay-dirs';
import { layerTagName, outputTypes, typesKey } from '../layer-types/types';
import type { ImageConfig, ImageManifest } from '../oci/types';
import type { Layer, StackerFile } from '../parse/types';
import type { PlannedLayer } from '../plan/order';
import { withLock } from '../storage/lock';
import { missingBlobs } from './blobs';
import type { BuildContext, LayerOutcome } from './context';
import { baseLayersOfAllTypes, exportLayer, restoreExport } from './export';
import { produceLayer } from './produce';

/**
 * Builds one layer, or reuses its cached result when every input is unchanged: the layer's
 * definition after substitution, its base, the content of its imports, SOURCE_DATE_EPOCH and
 * the build settings that change outputs. Logs one line saying which, and why.
 */
export async function buildLayer(
  ctx: BuildContext,
  file: StackerFile,
  planned: PlannedLayer,
): Promise<LayerOutcome> {
  const { layer } = planned;
  const started = performance.now();

  const base = await resolveBase(
    layer,
    {
      get: (name) => {
        const a = ctx.available.get(name);
        return a && { key: a.key, image: a.image };
      },
    },
    { ...ctx.settings, roots: ctx.roots, log: ctx.log, env: ctx.env, signal: ctx.signal },
  );
  const parts = await keyParts(ctx, layer, file, base);
  const key = layerKey(parts);

  // Reuse when possible: from the cache, else from an exported layer with the same key.
  const reuse = await findReusable(ctx, layer, key, parts);
  if (reuse.entry) {
    await finish(ctx, layer, base, reuse.entry);
    outcomeLine(ctx, `${layer.name}: reused cached layer (inputs unchanged, key ${short(key)})`);
    return outcome(layer, key, 'reused', 'inputs unchanged', reuse.entry.result, 0, started);
  }
  const restored = await restore(ctx, layer, key, parts, base);
  if (restored) {
    await finish(ctx, layer, base, restored.entry);
    outcomeLine(ctx, `${layer.name}: restored from ${restored.from} (key ${short(key)})`);
    return outcome(layer, key, 'restored', restored.from, restored.entry.result, 0, started);
  }
  ctx.log.info(`${layer.name}: building (${reuse.reason})`);

  // Build, holding the layer's lock so two builds never share its upper dir. A build we had
  // to wait for may have produced exactly this layer: look again before building.
  let waited = false;
  const built = await withLock(
    ctx.roots.lockPath(layer.name),
    async () => {
      const meanwhile = waited ? await findReusable(ctx, layer, key, parts) : undefined;
      if (meanwhile?.entry) return { reused: meanwhile.entry };
      const produced = await produceLayer({ ctx, layer, file, base });
      // Recorded before the lock goes, so that a build waiting for it finds it.
      ctx.cache.put({ key, file: layer.file, name: layer.name, parts, result: produced.result });
      return produced;
    },
    {
      onWait: (pid) => {
        waited = true;
        ctx.log.info(`${layer.name}: waiting for build in process ${pid}`);
      },
    },
  ).catch((err: unknown) => {
    throw wrapError(err, 'build failed', { file: layer.file, layer: layer.name });
  });
  if ('reused' in built) {
    await finish(ctx, layer, base, built.reused);
    outcomeLine(
      ctx,
      `${layer.name}: reused the layer the other build produced (key ${short(key)})`,
    );
    return outcome(layer, key, 'reused', 'built meanwhile', built.reused.result, 0, started);
  }

  const entry = { key, file: layer.file, name: layer.name, parts, result: built.result };
  await finish(ctx, layer, base, { version: CACHE_VERSION, ...entry });
  const seconds = (performance.now() - started) / 1000;
  outcomeLine(
    ctx,
    `${layer.name}: built in ${seconds.toFixed(1)}s` +
      (built.bytes ? `, new layer ${formatBytes(built.bytes)}` : ', no filesystem changes') +
      (layer.buildOnly ? ' (build_only: not tagged)' : ''),
  );
  return outcome(layer, key, 'built', reuse.reason, built.result, built.bytes, started);
}

/**
 * Logs what became of a layer: at info level, or at debug level when the caller reports
 * outcomes itself (`BuildOptions.reportsOutcomes`).
 */
function outcomeLine(ctx: BuildContext, message: string): void {
  if (ctx.settings.reportsOutcomes) ctx.log.debug(message);
  else ctx.log.info(message);
}

/** Whether `--no-cache` applies to this layer (see BuildOptions.noCache). */
function ignoresCache(ctx: BuildContext, layer: Layer): boolean {
  const only = ctx.settings.noCacheOnly;
  return ctx.settings.noCache && (only === undefined || only.has(layer.name));
}

/** The cache entry to reuse, or why there is none. */
async function findReusable(
  ctx: BuildContext,
  layer: Layer,
  key: string,
  parts: KeyParts,
): Promise<{ entry?: CacheEntry; reason: string }> {
  if (ignoresCache(ctx, layer)) return { reason: '--no-cache given' };
  if (hasUntrackedBinds(layer)) {
    return { reason: "layer has binds, whose content is not tracked (see 'hash: true')" };
  }
  const entry = ctx.cache.get(key);
  if (!entry) {
    const before = ctx.cache.latestFor(layer.file, layer.name);
    return { reason: missReason(before?.parts, parts) };
  }
  for (const [, manifest] of resultManifests(entry.result)) {
    const missing = await missingBlobs(ctx.layout, manifest);
    if (missing.length) return { reason: `cached output is gone from the OCI dir (${missing[0]})` };
  }
  return { entry, reason: '' };
}

/** Restores the layer from an exported layer with the same key, when there is one. */
async function restore(
  ctx: BuildContext,
  layer: Layer,
  key: string,
  parts: KeyParts,
  base: Base,
): Promise<{ entry: CacheEntry; from: string } | undefined> {
  if (ignoresCache(ctx, layer) || hasUntrackedBinds(layer) || ctx.exports.length === 0)
    return undefined;
  const found = await restoreExport({
    key,
    exports: ctx.exports,
    layout: ctx.layout,
    extraLayouts: base.image ? [base.image.layout] : [],
  });
  if (!found) return undefined;
  const entry = { key, file: layer.file, name: layer.name, parts, result: found.result };
  ctx.cache.put(entry);
  const from = ctx.exports.find((e) => e.entry.key === key)?.dir ?? 'an exported layer';
  return { entry: { version: CACHE_VERSION, ...entry }, from };
}

/**
 * Makes a layer's result available to later layers, points its tag at it and, when asked,
 * exports it.
 */
async function finish(
  ctx: BuildContext,
  layer: Layer,
  base: Base,
  entry: CacheEntry,
): Promise<void> {
  await useResult(ctx, layer, entry.key, entry.result);
  const dir = ctx.exportDirFor(layer.name);
  if (dir) {
    await exportLayer({
      dir,
      layout: ctx.layout,
      entry,
      baseLayers: await baseLayersOfAllTypes(ctx, base),
    });
  }
}

/** Records a layer's result as available to later layers and points its tag at it. */
async function useResult(
  ctx: BuildContext,
  layer: Layer,
  key: string,
  result: CacheEntry['result'],
): Promise<void> {
  const manifest = await ctx.layout.readJson<ImageManifest>(result.manifest);
  const config = await ctx.layout.readJson<ImageConfig>(manifest.config);
  ctx.available.set(layer.name, {
    key,
    result,
    image: { manifest, config, layout: ctx.layout },
  });
  if (!layer.buildOnly) {
    await ctx.layout.updateTags(
      resultManifests(result).map(([kind, descriptor]) => ({
        name: layerTagName(layer.name, kind),
        descriptor,
      })),
    );
  }
}

/** What computing a layer's key needs: a build's context, or publish's stand-in for one. */
export type KeyContext = Pick<BuildContext, 'settings' | 'log' | 'roots' | 'available' | 'env'> & {
  signal?: AbortSignal;
  /** Use only earlier downloads, never the network (publish). */
  offline?: boolean;
};

/**
 * Hashes every input of a layer; see cache/key.ts. Remote imports are fetched first when
 * their content is not pinned by a `hash:` (see `importDigest`), `stacker://` imports read
 * from the layers built so far.
 */
export async function keyParts(
  ctx: KeyContext,
  layer: Layer,
  file: StackerFile,
  base: Base,
): Promise<KeyParts> {
  const imports = [];
  for (const imp of layer.imports) {
    try {
      const d = await importDigest(imp, {
        layer,
        stackerDir: ctx.settings.stackerDir,
        log: ctx.log,
        env: ctx.env,
        sources: { roots: ctx.roots, image: (name) => ctx.available.get(name)?.image },
        offline: ctx.offline,
        signal: ctx.signal,
      });
      imports.push({ path: imp.path, digest: d.digest });
    } catch (err) {
      throw wrapError(err, `couldn't read import ${imp.path}`, {
        file: layer.file,
        ...imp.pos,
        layer: layer.name,
        directive: 'imports',
        import: imp.path,
        step: 'imports',
      });
    }
  }
  return {
    definition: definitionHash(layer, dirname(file.path)),
    base: base.identity,
    imports,
    overlayDirs: overlayDirDigests(layer),
    binds: bindDigests(layer, [
      ctx.settings.stackerDir,
      ctx.settings.rootsDir,
      ctx.settings.ociDir,
    ]),
    sourceDateEpoch: ctx.settings.sourceDateEpoch ?? null,
    settings:
      `${typesKey(outputTypes(ctx.settings))};gzip${ctx.settings.gzipLevel};` +
      ctx.settings.annotationsNamespace +
      // Only when off, so that every other key stays as it was.
      (ctx.settings.fileAnnotations ? '' : ';no-file-annotations'),
  };
}

function outcome(
  layer: Layer,
  key: string,
  status: LayerOutcome['status'],
  reason: string,
  result: CacheEntry['result'],
  bytes: number,
  started: number,
): LayerOutcome {
  return {
    name: layer.name,
    file: layer.file,
    key,
    status,
    reason,
    buildOnly: layer.buildOnly,
    manifest: result.manifest,
    bytes,
    seconds: (performance.now() - started) / 1000,
  };
}

export function short(key: string): string {
  return key.slice(0, 12);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
