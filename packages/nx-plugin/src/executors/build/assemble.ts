/**
 * The build target's last step: a complete OCI layout of one stacker file, with stacker's
 * tags (one per layer that is not build_only, named like the layer), made from the layers'
 * exported outputs without building or unpacking anything. Blobs are hard-linked from the
 * exports (copied across filesystems), so an assembled image costs almost no space.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import {
  type Descriptor,
  findExports,
  type ImageManifest,
  type Layer,
  type LayerExport,
  layerTagName,
  OciLayout,
  resultManifests,
  StackerError,
} from '../../engine';

/** What assembling did, for the executor's summary line. */
export interface AssembleSummary {
  dir: string;
  tags: string[];
  blobs: number;
  bytes: number;
  linked: number;
  copied: number;
}

/**
 * Writes the OCI layout `dir` (replacing it) for `layers`, the file's own layers in file
 * order. Each layer's export must be in its output dir; the blobs its image needs are
 * taken from any export under `stores`, from `baseLayouts` (local OCI bases) or from
 * `fallbackLayouts`. The result is the same bytes whatever machine the exports came from:
 * blobs are content-addressed and index.json lists tags in file order.
 */
export async function assembleImage(args: {
  dir: string;
  layers: Layer[];
  /** The output dir of each of `layers`, where its export is. */
  outputOf: (layer: string) => string;
  stores: string[];
  baseLayouts: string[];
  fallbackLayouts: string[];
}): Promise<AssembleSummary> {
  const exports = findExports(args.stores);
  const sources = await openLayouts([
    ...exports.map((e) => e.dir),
    ...args.baseLayouts,
    ...args.fallbackLayouts,
  ]);

  // Build the layout next to its final place, then swap it in.
  const tmp = `${args.dir}.tmp-${randomBytes(6).toString('hex')}`;
  const summary: AssembleSummary = {
    dir: args.dir,
    tags: [],
    blobs: 0,
    bytes: 0,
    linked: 0,
    copied: 0,
  };
  try {
    const layout = await OciLayout.open(tmp, { create: true });
    const tags: { name: string; descriptor: Descriptor }[] = [];
    for (const layer of args.layers.filter((l) => !l.buildOnly)) {
      const found = exportOf(exports, args.outputOf(layer.name), layer);
      const exported = await OciLayout.open(found.dir, { create: false });
      // One image per layer type: `<layer>` for tar, `<layer>-squashfs`, `<layer>-erofs`.
      for (const [kind, manifest] of resultManifests(found.entry.result)) {
        const image = await exported.readJson<ImageManifest>(manifest);
        for (const blob of [manifest, image.config, ...image.layers]) {
          place(blob, layout, sources, summary, layer);
        }
        tags.push({ name: layerTagName(layer.name, kind), descriptor: manifest });
      }
    }
    await layout.updateTags(tags);
    summary.tags = tags.map((t) => t.name);

    rmSync(args.dir, { recursive: true, force: true });
    renameSync(tmp, args.dir);
    return summary;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function exportOf(exports: LayerExport[], dir: string, layer: Layer): LayerExport {
  const found = exports.find((e) => e.dir === dir && e.entry.name === layer.name);
  if (found) return found;
  throw new StackerError(
    `layer ${layer.name} has no exported output in ${dir}`,
    { file: layer.file, ...layer.pos, layer: layer.name, step: 'assemble' },
    "build the layer's target first (the build target depends on it, unless its " +
      'dependencies were excluded)',
  );
}

/** Puts one blob into `layout`, linked from the first source holding it. */
function place(
  blob: Descriptor,
  layout: OciLayout,
  sources: OciLayout[],
  summary: AssembleSummary,
  layer: Layer,
): void {
  const target = layout.blobPath(blob.digest);
  if (existsSync(target)) return;
  const source = sources.find((s) => s.hasBlob(blob.digest));
  if (!source) {
    throw new StackerError(
      `blob ${blob.digest} of layer ${layer.name} is in none of the layer outputs or base layouts`,
      { file: layer.file, layer: layer.name, step: 'assemble' },
      'rebuild the layer and the layers it is built on (nx run <project>:<layer> --skip-nx-cache)',
    );
  }
  try {
    linkSync(source.blobPath(blob.digest), target);
    summary.linked++;
  } catch {
    copyFileSync(source.blobPath(blob.digest), target);
    summary.copied++;
  }
  summary.blobs++;
  summary.bytes += blob.size;
}

/** The layouts among `dirs` that open; the rest (missing base dirs, say) are skipped. */
async function openLayouts(dirs: string[]): Promise<OciLayout[]> {
  const layouts: OciLayout[] = [];
  for (const dir of new Set(dirs)) {
    try {
      layouts.push(await OciLayout.open(dir, { create: false }));
    } catch {
      // Not a layout (yet): nothing to take from it.
    }
  }
  return layouts;
}
