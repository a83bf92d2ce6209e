/**
 * Layers published on top of build_only layers, without stacker's "wart".
 *
 * A build_only layer's image is its base image plus its own layers. A layer built on it
 * that is not build_only (the layer "C") would, as in stacker, inherit every one of those
 * layers, so bytes the chain wrote and C deleted would still ship. Instead, C's image is the
 * image of the chain's published ancestor (the first layer through `built` links that is not
 * build_only, or the chain root's base image: none for scratch and tar roots), plus C's
 * overlay-dir layers, plus ONE layer: the chain's diffs and C's upper dir collapsed into a
 * single diff against what lies below it. In the container C's run still sees the full chain.
 *
 * Which leading layers of a build_only layer's image are the ancestor's is recorded in its
 * build result (`LayerResult.published`), so this works whether the chain was just built,
 * reused from the cache or restored from an export.
 */
import { renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Base, SourceImage } from '../bases/resolve';
import type { PublishedPrefix } from '../cache/store';
import { UnionView } from '../grab/union';
import { readXattrs } from '../native/xattrs';
import type { Layer } from '../parse/types';
import { applyDiff, type DiffDir, emptyTree, pruneWhiteouts, writeTree } from './collapse-tree';
import type { BuildContext } from './context';

/**
 * The part of a build_only layer's image that belongs to its published ancestor, to record in
 * its result; undefined for other layers. A build_only layer on a build_only layer has the
 * same ancestor; on anything else its ancestor is its base image (none for scratch and tar).
 */
export function publishedPrefix(
  ctx: Pick<BuildContext, 'available'>,
  layer: Layer,
  base: Base,
): PublishedPrefix | undefined {
  if (!layer.buildOnly) return undefined;
  const parent = buildOnlyParent(ctx, layer);
  if (parent?.published) return parent.published;
  if (!base.image) return { layers: 0, history: 0 };
  return {
    layers: base.image.manifest.layers.length,
    history: base.image.config.history?.length ?? 0,
  };
}

/**
 * For a layer that is not build_only, built on a build_only chain: replaces the layer's upper
 * dir (after its run) with the collapse of the chain's layers, its overlay-dir layers as the
 * image will order them, and the upper dir itself, and returns the published ancestor's image
 * to start the layer's image from. Returns undefined, changing nothing, for any other layer
 * and when the chain added no layer: the base image is then the start, as usual.
 *
 * `lowers` are the dirs the run was stacked on, bottom first: the base image's layers, then
 * the layer's overlay-dir layers. Packing the new upper dir is the caller's job, as is moving
 * it to its content dir; its files are hard links to the chain's content dirs, which packing
 * only reads.
 */
export async function collapseChain(args: {
  ctx: BuildContext;
  layer: Layer;
  base: Base;
  lowers: string[];
}): Promise<SourceImage | undefined> {
  const { ctx, layer, base, lowers } = args;
  const published = buildOnlyParent(ctx, layer)?.published;
  if (layer.buildOnly || !base.image || !published) return undefined;
  const baseCount = base.image.manifest.layers.length;
  const ancestorDirs = lowers.slice(0, published.layers);
  const chainDirs = lowers.slice(published.layers, baseCount);
  const overlayDirs = lowers.slice(baseCount);
  if (chainDirs.length === 0) return undefined;
  ctx.log.info(
    `${layer.name}: folding ${chainDirs.length} layer(s) of build_only ${layer.from.tag} ` +
      'into its own layer (what the chain deleted again does not ship)',
  );

  // Plan the collapsed tree: the chain bottom-up, the overlay dirs, then the run's changes.
  const upper = ctx.roots.upperDir(layer.name);
  const upperXattrs = await readXattrs(upper, { stripOverlay: true });
  const tree = emptyTree(upper);
  for (const dir of chainDirs) applyDiff(tree, await diffDir(dir), 'stack');
  for (const dir of overlayDirs) applyDiff(tree, await diffDir(dir), 'shadow');
  applyDiff(tree, { dir: upper, xattrs: upperXattrs }, 'stack');

  // Keep only the whiteouts that hide something of what the image has below this layer.
  const below = new UnionView([...ancestorDirs, ...overlayDirs].reverse());
  await pruneWhiteouts(tree, (rel) => visibleIn(below, rel));

  // Write it next to the upper dir, then put it in the upper dir's place.
  const collapsed = join(dirname(upper), 'collapsed');
  rmSync(collapsed, { recursive: true, force: true });
  await writeTree(tree, collapsed);
  rmSync(upper, { recursive: true, force: true });
  renameSync(collapsed, upper);

  return ancestorImage(base.image, published);
}

/** The result of the layer's `built` parent when that parent is build_only. */
function buildOnlyParent(ctx: Pick<BuildContext, 'available'>, layer: Layer) {
  if (layer.from.type !== 'built') return undefined;
  const parent = ctx.available.get(layer.from.tag ?? '')?.result;
  return parent?.buildOnly ? parent : undefined;
}

async function diffDir(dir: string): Promise<DiffDir> {
  return { dir, xattrs: await readXattrs(dir, { stripOverlay: false }) };
}

/** Whether `rel` exists in the view, its parents being directories there. */
async function visibleIn(view: UnionView, rel: string): Promise<boolean> {
  let dir = view.root;
  const names = rel.split('/');
  for (const [i, name] of names.entries()) {
    const entry = await view.lookup(dir, name);
    if (!entry) return false;
    if (i === names.length - 1) return true;
    if (entry.kind !== 'dir') return false;
    dir = entry;
  }
  return false;
}

/**
 * The ancestor's image, cut from a build_only layer's image: its leading layers, diff IDs
 * and history entries. Everything else of a build_only layer's config and manifest is its
 * base's (build_only layers edit neither).
 */
function ancestorImage(image: SourceImage, published: PublishedPrefix): SourceImage {
  const history = image.config.history?.slice(0, published.history);
  return {
    layout: image.layout,
    manifest: { ...image.manifest, layers: image.manifest.layers.slice(0, published.layers) },
    config: {
      ...image.config,
      rootfs: {
        ...image.config.rootfs,
        diff_ids: image.config.rootfs.diff_ids.slice(0, published.layers),
      },
      history: history?.length ? history : undefined,
    },
  };
}
