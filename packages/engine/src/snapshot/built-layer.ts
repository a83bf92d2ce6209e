/**
 * Which image a layer name means once it has been built: what `chroot`, `grab` and `inspect`
 * work on. A layer's image is found through its tag in the OCI dir or, for build_only layers
 * (never tagged), through its build cache entry.
 */
import { readManifest } from '../bases/image';
import { BuildCache, type CacheEntry } from '../cache/store';
import { StackerError } from '../errors';
import { OciLayout } from '../oci/layout';
import type { ImageConfig, ImageManifest } from '../oci/types';
import { hostArch } from '../parse';

/** A built layer's image, read from the OCI dir. */
export interface BuiltLayer {
  name: string;
  layout: OciLayout;
  /** Digest of the image manifest. */
  digest: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Where built layers are looked up. */
export interface BuiltLayerDirs {
  ociDir: string;
  stackerDir: string;
}

/**
 * Finds the image of the layer `name`. With `stackerFile` (absolute), the cache entry of
 * that file's layer wins, so same-named layers of other projects sharing the dirs are not
 * picked; then the tag in the OCI dir; then any cache entry of that name (build_only layers
 * of other files). Fails with a StackerError naming the layers that were built when `name`
 * was not. Does not extract anything.
 */
export async function findBuiltLayer(
  dirs: BuiltLayerDirs,
  name: string,
  stackerFile?: string,
): Promise<BuiltLayer> {
  const layout = await openLayout(dirs.ociDir);
  const cache = new BuildCache(dirs.stackerDir);
  const entries = layout ? usableEntries(layout, cache) : [];

  const own = stackerFile && entries.find((e) => e.file === stackerFile && e.name === name);
  const tagged = layout?.resolveTag(name);
  const other = entries.find((e) => e.name === name);
  const descriptor = own ? own.result.manifest : (tagged ?? other?.result.manifest);
  if (!layout || !descriptor) {
    const built = await listBuiltLayers(dirs);
    throw new StackerError(
      `layer ${name} has not been built (no tag ${name} in ${dirs.ociDir} and no cached build)`,
      { layer: name },
      built.length
        ? `built layers: ${built.join(', ')}; build ${name} first with "nx-stacker build"`
        : `nothing has been built with these dirs yet; run "nx-stacker build" first`,
    );
  }

  const platform = { os: 'linux', arch: hostArch() };
  try {
    const image = await readManifest(layout, descriptor, platform);
    return { name, layout, ...image };
  } catch (err) {
    throw new StackerError(
      `couldn't read the image of layer ${name}: ${(err as Error).message}`,
      { layer: name },
      'build the layer again',
      { cause: err },
    );
  }
}

/**
 * Names of every layer with an image in the OCI dir: its tags, then build_only layers and
 * other cached builds whose image is still complete there. Sorted, without duplicates.
 */
export async function listBuiltLayers(dirs: BuiltLayerDirs): Promise<string[]> {
  const layout = await openLayout(dirs.ociDir);
  if (!layout) return [];
  const names = new Set(layout.tags().map((t) => t.name));
  for (const e of usableEntries(layout, new BuildCache(dirs.stackerDir))) names.add(e.name);
  return [...names].sort();
}

/** The OCI dir, or undefined when there is none yet. */
async function openLayout(ociDir: string): Promise<OciLayout | undefined> {
  try {
    return await OciLayout.open(ociDir, { create: false });
  } catch {
    return undefined;
  }
}

/** Cache entries whose manifest blob is still in the OCI dir. */
function usableEntries(layout: OciLayout, cache: BuildCache): CacheEntry[] {
  return cache.entries().filter((e) => layout.hasBlob(e.result.manifest.digest));
}
