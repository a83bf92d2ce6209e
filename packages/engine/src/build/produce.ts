import { renameSync, rmSync } from 'node:fs';
import type { Base } from '../bases/resolve';
import type { LayerResult } from '../cache/store';
import { StackerError } from '../errors';
import { stageImports } from '../imports';
import { makeLayerBlob } from '../layer-types/blob';
import { blobSettings, writeTypedImages } from '../layer-types/outputs';
import { type LayerType, outputTypes } from '../layer-types/types';
import { readXattrs } from '../native/xattrs';
import type { Descriptor } from '../oci/types';
import { packLayer } from '../pack/pack-layer';
import type { Layer, StackerFile } from '../parse/types';
import { runStep } from '../run/step';
import { extractLayer } from '../storage/extract';
import { copyBlobs } from './blobs';
import { collapseChain, publishedPrefix } from './collapse';
import type { BuildContext } from './context';
import { annotate, appendLayer, applyImageDirectives, type DraftImage, startImage } from './image';
import { applyGeneratedLabels } from './labels';

/** A packed OCI layer and the history line it gets. */
interface NewLayer {
  descriptor: Descriptor;
  diffId: string;
  createdBy: string;
}

/**
 * Produces a layer's image: stages imports, stacks the base's layers with overlayfs, runs the
 * `run` script in a container, packs the upper dir into a new OCI layer, and writes config and
 * manifest blobs. Tags nothing and touches no cache entry: the caller does, once this succeeded,
 * so a failure at any point leaves the previous image and tag as they were.
 */
export async function produceLayer(args: {
  ctx: BuildContext;
  layer: Layer;
  file: StackerFile;
  base: Base;
}): Promise<{ result: LayerResult; bytes: number }> {
  const { ctx, layer, file, base } = args;

  // Stack, then run.
  const { lowers, importsDir, overlayLayers } = await stackLayer(ctx, layer, base);
  if (base.tarball)
    await extractTarball(ctx, layer, base.tarball, base.identity.slice('tar:'.length));
  if (layer.run.length) await runLayer(ctx, layer, lowers, importsDir);

  // On a build_only chain, the chain's changes join the upper dir and the image starts from
  // the chain's published ancestor (see collapse.ts).
  const start = (await collapseChain({ ctx, layer, base, lowers })) ?? base.image;

  // Pack, then write the image in every requested layer type.
  const own = await packUpper(ctx, layer);
  const image = startImage(start, layer, ctx.stamp);
  if (base.image && base.image.layout !== ctx.layout) {
    copyBlobs(base.image.layout, ctx.layout, base.image.manifest.layers);
  }
  for (const l of [...overlayLayers, ...own]) appendLayer(image, l, ctx.stamp);
  if (!layer.buildOnly) await configure(ctx, layer, file, image);
  const { manifest, manifests, images } = await writeTypedImages({
    ctx,
    name: layer.name,
    image,
    base,
  });
  ctx.roots.writeMetadata(layer.name, image.manifest, image.config, images);

  const bytes = [...overlayLayers, ...own].reduce((n, l) => n + l.descriptor.size, 0);
  const published = publishedPrefix(ctx, layer, base);
  return {
    result: { name: layer.name, buildOnly: layer.buildOnly, manifest, manifests, published },
    bytes,
  };
}

/**
 * The overlay stack of a layer: the base image's layers (extracted first: imports and overlay
 * dirs whose `dest` crosses a symlink of the base follow it), then one layer per overlay dir
 * and `dest` import, packed now. Stages the imports and empties the layer's upper dir.
 */
async function stackLayer(ctx: BuildContext, layer: Layer, base: Base) {
  const lowers = await extractBaseLayers(ctx, base);
  const staged = await stageImports({
    layer,
    stackerDir: ctx.settings.stackerDir,
    log: ctx.log,
    baseLayers: [...lowers],
    sourceDateEpoch: ctx.settings.sourceDateEpoch,
  });
  ctx.roots.resetLayer(layer.name);
  const overlayLayers: NewLayer[] = [];
  for (const dir of staged.overlayDirs) {
    const packed = await packDir(ctx, dir.source);
    overlayLayers.push({ ...packed, createdBy: `stacker overlay dir for ${layer.name}` });
    lowers.push(commitDir(ctx, dir.source, packed.descriptor.digest));
  }
  return { lowers, importsDir: staged.dir, overlayLayers };
}

/** Runs the layer's `run` script on `lowers` (bottom-first) and its upper dir. */
async function runLayer(
  ctx: BuildContext,
  layer: Layer,
  lowers: string[],
  importsDir: string,
): Promise<void> {
  const { roots, settings, log } = ctx;
  if (settings.debug)
    log.debug(`${layer.name}: overlay lower dirs (top first): ${lowers.toReversed().join(':')}`);
  await runStep({
    layer,
    importsDir,
    lowers: lowers.toReversed(),
    upper: roots.upperDir(layer.name),
    work: roots.workDir(layer.name),
    mountDir: roots.mountDir(layer.name),
    stackerDir: settings.stackerDir,
    log,
    debug: settings.debug,
    onRunFailure: settings.onRunFailure,
    signal: ctx.signal,
    hostEnv: ctx.env,
  });
}

/**
 * Packs the upper dir in the primary layer type (its blob names the content dir; see
 * writeTypedImages) and commits it; an unchanged filesystem adds no layer.
 */
async function packUpper(ctx: BuildContext, layer: Layer): Promise<NewLayer[]> {
  const upper = ctx.roots.upperDir(layer.name);
  const xattrs = await readXattrs(upper, { stripOverlay: true });
  const packed = await makeLayerBlob({
    dir: upper,
    type: outputTypes(ctx.settings)[0] as LayerType,
    settings: blobSettings(ctx),
    xattrs,
  });
  if (packed.entries === 0) return [];
  ctx.roots.commitUpper(layer.name, packed.descriptor.digest);
  return [{ ...packed, createdBy: `stacker build of ${layer.name}` }];
}

/** The config edits of a published layer: generated labels, directives, annotations. */
async function configure(
  ctx: BuildContext,
  layer: Layer,
  file: StackerFile,
  image: DraftImage,
): Promise<void> {
  await applyGeneratedLabels({ ctx, layer, image });
  applyImageDirectives(image, layer, ctx.stamp);
  annotate(image, layer, {
    namespace: ctx.settings.annotationsNamespace,
    ...(ctx.settings.fileAnnotations
      ? { stackerYaml: file.text, gitVersion: ctx.gitVersion(file.dir) }
      : {}),
    version: ctx.settings.version,
  });
}

/** Extracts (once) every layer of the base image; returns their dirs bottom-first. */
async function extractBaseLayers(ctx: BuildContext, base: Base): Promise<string[]> {
  if (!base.image) return [];
  const { layout, manifest } = base.image;
  const dirs: string[] = [];
  for (const desc of manifest.layers) {
    dirs.push(await ctx.roots.ensureExtracted(desc, layout.blobPath(desc.digest)));
  }
  return dirs;
}

/** Packs a staged `dest` import tree into an OCI layer in the OCI dir. */
async function packDir(ctx: BuildContext, dir: string) {
  const xattrs = await readXattrs(dir, { stripOverlay: true });
  return packLayer({
    dir,
    layout: ctx.layout,
    sourceDateEpoch: ctx.settings.sourceDateEpoch,
    gzipLevel: ctx.settings.gzipLevel,
    xattrs,
    logger: ctx.log,
  });
}

/** Moves a packed tree to its content dir (or drops it when that exists); returns the dir. */
function commitDir(ctx: BuildContext, dir: string, digest: string): string {
  const target = ctx.roots.contentDir(digest);
  if (ctx.roots.hasContent(digest)) {
    rmSync(dir, { recursive: true, force: true });
  } else {
    ctx.roots.prepareContent(digest);
    renameSync(dir, target);
  }
  return target;
}

async function extractTarball(
  ctx: BuildContext,
  layer: Layer,
  tarball: string,
  digest: string,
): Promise<void> {
  const upper = ctx.roots.upperDir(layer.name);
  rmSync(upper, { recursive: true, force: true });
  try {
    await extractLayer({
      blobPath: tarball,
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      target: upper,
      digest,
    });
  } catch (err) {
    throw new StackerError(
      `couldn't extract tar base ${tarball}: ${(err as Error).message}`,
      { file: layer.file, ...layer.from.pos, layer: layer.name, directive: 'from', step: 'base' },
      'the file must be a tar archive, plain or compressed with gzip, zstd, xz or bzip2',
      { cause: err },
    );
  }
}
