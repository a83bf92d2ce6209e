import { renameSync, rmSync } from 'node:fs';
import type { Base } from '../bases/resolve';
import type { LayerResult } from '../cache/store';
import { StackerError } from '../errors';
import { stageImports } from '../imports';
import { readXattrs } from '../native/xattrs';
import type { Descriptor } from '../oci/types';
import { packLayer } from '../pack/pack-layer';
import type { Layer, StackerFile } from '../parse/types';
import { runStep } from '../run/step';
import { extractLayer } from '../storage/extract';
import { copyBlobs } from './blobs';
import type { BuildContext } from './context';
import { annotate, appendLayer, applyImageDirectives, startImage } from './image';

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
  const { roots, settings, log } = ctx;

  // Stage imports and start from an empty upper dir.
  const staged = await stageImports({ layer, stackerDir: settings.stackerDir, log });
  roots.resetLayer(layer.name);

  // Lower dirs: the base image's layers, then one layer per `dest` import.
  const lowers = await extractBaseLayers(ctx, base);
  const overlayLayers: NewLayer[] = [];
  for (const dir of staged.overlayDirs) {
    const packed = await packDir(ctx, dir.source);
    overlayLayers.push({ ...packed, createdBy: `stacker overlay dir for ${layer.name}` });
    lowers.push(commitDir(ctx, dir.source, packed.descriptor.digest));
  }

  // A tar base is this layer's own content: extract it into the upper dir.
  if (base.tarball)
    await extractTarball(ctx, layer, base.tarball, base.identity.slice('tar:'.length));

  // Run.
  if (layer.run.length) {
    if (settings.debug)
      log.debug(`${layer.name}: overlay lower dirs (top first): ${lowers.toReversed().join(':')}`);
    await runStep({
      layer,
      importsDir: staged.dir,
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

  // Pack the upper dir; an unchanged filesystem adds no OCI layer.
  const upper = roots.upperDir(layer.name);
  const xattrs = await readXattrs(upper, { stripOverlay: true });
  const packed = await packLayer({
    dir: upper,
    layout: ctx.layout,
    sourceDateEpoch: settings.sourceDateEpoch,
    gzipLevel: settings.gzipLevel,
    xattrs,
    logger: log,
  });
  const own: NewLayer[] = [];
  if (packed.entries > 0) {
    roots.commitUpper(layer.name, packed.descriptor.digest);
    own.push({ ...packed, createdBy: `stacker build of ${layer.name}` });
  }

  // Assemble and write the image.
  const image = startImage(base.image, layer, ctx.stamp);
  if (base.image && base.image.layout !== ctx.layout) {
    copyBlobs(base.image.layout, ctx.layout, base.image.manifest.layers);
  }
  for (const l of [...overlayLayers, ...own]) appendLayer(image, l, ctx.stamp);
  if (!layer.buildOnly) {
    applyImageDirectives(image, layer, ctx.stamp);
    annotate(image, layer, {
      namespace: settings.annotationsNamespace,
      stackerYaml: file.text,
      version: settings.version,
      gitVersion: ctx.gitVersion(file.dir),
    });
  }
  const manifest = await ctx.layout.writeImage(image);
  roots.writeMetadata(layer.name, image.manifest, image.config);

  const bytes = [...overlayLayers, ...own].reduce((n, l) => n + l.descriptor.size, 0);
  return { result: { name: layer.name, buildOnly: layer.buildOnly, manifest }, bytes };
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
      'the file must be a tar archive, optionally gzip-compressed',
      { cause: err },
    );
  }
}
