import type { NormalizedOptions } from '../options';

/** Characters a target name may keep: `nx run image:<name>` then needs no quoting. */
const UNSAFE = /[^A-Za-z0-9_.-]/g;

/**
 * The target name of each layer of one stacker file, by layer name. A name is the layer's
 * name (after `layerTargetPrefix`) with characters a shell or Nx's `project:target` syntax
 * would trip on replaced by `-`. A name that would clash with a target of the project's own
 * (build, publish, nx-release-publish) or with an earlier layer's target becomes
 * `layer-<name>` (then `layer-<name>-2`, ...). Depends only on the file's layer names and
 * the options, so other files can work out the same names.
 */
export function layerTargetNames(
  layerNames: readonly string[],
  options: NormalizedOptions,
): Map<string, string> {
  const taken = new Set([options.buildTargetName, ...projectTargetNames(options)]);
  const names = new Map<string, string>();
  for (const layer of layerNames) {
    const base = `${options.layerTargetPrefix}${layer}`.replace(UNSAFE, '-');
    let name = base;
    for (let i = 1; taken.has(name); i++) {
      name = i === 1 ? `layer-${base}` : `layer-${base}-${i}`;
    }
    taken.add(name);
    names.set(layer, name);
  }
  return names;
}

/** The names of the targets every stacker project has besides its layers' and build's. */
export function projectTargetNames(options: NormalizedOptions): string[] {
  const names = [options.publishTargetName];
  if (options.releaseTargetName) names.push(options.releaseTargetName);
  return names;
}
