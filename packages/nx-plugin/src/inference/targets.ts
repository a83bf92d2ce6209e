/**
 * The targets of one stacker project: one per layer, which builds that layer and exports it
 * as the task's output, the build target, which assembles the file's OCI layout from those
 * outputs, and the publish targets, which push that layout's images. Plain data; nothing here
 * touches the disk.
 */
import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import type { Layer } from '../engine';
import { BUILD_EXECUTOR, type BuildExecutorOptions } from '../executors/build/options';
import {
  PUBLISH_ENV,
  PUBLISH_EXECUTOR,
  type PublishExecutorOptions,
} from '../executors/publish/options';
import type { NormalizedOptions } from '../options';
import { imageOutput, layerOutput } from '../workspace/paths';
import type { LocalBase, LocalSource } from './bases';
import { imageInputs, layerInputs } from './inputs';

/** Everything a layer's target is made from, already resolved. */
export interface LayerTargetSpec {
  file: string;
  root: string;
  layer: Layer;
  definition: string;
  /** Targets of the layers it is built on: a name in this project, or another project's. */
  parents: (string | { project: string; target: string })[];
  imports: LocalSource[];
  base?: LocalBase;
  /** The other project's target that makes `base`, when another project holds it. */
  baseTask?: { project: string; target: string };
  /** False when the layer has binds Nx cannot track (see `bindsCacheable`). */
  cacheable: boolean;
}

/**
 * A layer's target: cacheable unless the layer has binds whose content nobody tracks (no
 * `hash: true`, or outside the workspace).
 */
export function layerTarget(
  spec: LayerTargetSpec,
  options: NormalizedOptions,
): TargetConfiguration<BuildExecutorOptions> {
  const { layer } = spec;
  const dependsOn: (string | TargetDependencyConfig)[] = spec.parents.map((p) =>
    typeof p === 'string' ? p : { projects: [p.project], target: p.target },
  );
  if (spec.baseTask)
    dependsOn.push({ projects: [spec.baseTask.project], target: spec.baseTask.target });

  return {
    executor: BUILD_EXECUTOR,
    options: {
      stackerFile: spec.file,
      layer: layer.name,
      ...substitute(options),
      ...options.build,
    },
    dependsOn,
    inputs: layerInputs({
      definition: spec.definition,
      imports: spec.imports,
      base: spec.base,
      hasParents: spec.parents.length > 0,
      baseFromTask: spec.baseTask !== undefined,
    }),
    outputs: [`{workspaceRoot}/${layerOutput(spec.root, layer.name)}`],
    cache: spec.cacheable,
    metadata: {
      technologies: ['stacker'],
      description: describeLayer(spec),
    },
  };
}

/** The build target: every layer of the file, then the OCI layout with stacker's tags. */
export function imageTarget(args: {
  file: string;
  root: string;
  layerTargets: string[];
  tags: string[];
  options: NormalizedOptions;
}): TargetConfiguration<BuildExecutorOptions> {
  const tags = args.tags.length ? args.tags.join(', ') : 'none: every layer is build_only';
  return {
    executor: BUILD_EXECUTOR,
    options: { stackerFile: args.file, ...substitute(args.options), ...args.options.build },
    dependsOn: [...args.layerTargets],
    inputs: imageInputs(),
    outputs: [`{workspaceRoot}/${imageOutput(args.root)}`],
    // Assembling links blobs the layer outputs already hold; caching it would store every
    // image twice, locally and in a remote cache.
    cache: false,
    metadata: {
      technologies: ['stacker'],
      description:
        `Build every layer of ${args.file} and assemble its OCI layout in ` +
        `${imageOutput(args.root)} (tags: ${tags})`,
    },
  };
}

/**
 * A publish target (`publish`, or `nx-release-publish` for `nx release publish`): pushes the
 * image the build target assembles, so it depends on it. Never cached: its effect is on a
 * registry, not in files Nx could restore. Its options carry only the plugin's `publish`
 * defaults: Nx hashes every target's options into all of the project's tasks, so values that
 * vary per run (url overrides, versions) belong on the command line or in the environment.
 */
export function publishTarget(args: {
  file: string;
  /** The layers whose images are published: those that are not build_only. */
  layers: string[];
  options: NormalizedOptions;
  release: boolean;
}): TargetConfiguration<PublishExecutorOptions> {
  const { options } = args;
  const url = options.publish.url ?? `$${PUBLISH_ENV.url}`;
  const layers = args.layers.length ? args.layers.join(', ') : 'none: every layer is build_only';
  const what = args.release ? 'Run by `nx release publish`: publish' : 'Publish';
  return {
    executor: PUBLISH_EXECUTOR,
    options: {
      stackerFile: args.file,
      ...substitute(options),
      // What the build makes is what gets published, unless the target says otherwise.
      ...(options.build.layerTypes ? { layerTypes: options.build.layerTypes } : {}),
      ...options.publish,
    },
    dependsOn: [options.buildTargetName],
    cache: false,
    metadata: {
      technologies: ['stacker'],
      description: `${what} the images of ${args.file} (layers: ${layers}) to ${url}`,
    },
  };
}

/** The target of a stacker file that does not parse: building it reports the error. */
export function brokenTarget(
  file: string,
  error: string,
): TargetConfiguration<BuildExecutorOptions> {
  return {
    executor: BUILD_EXECUTOR,
    options: { stackerFile: file },
    cache: false,
    metadata: { technologies: ['stacker'], description: `Cannot build ${file}: ${error}` },
  };
}

function substitute(options: NormalizedOptions): { substitute?: string[] } {
  return options.substitute.length ? { substitute: [...options.substitute] } : {};
}

/** One line for `nx show project`: what the layer starts from and what it adds. */
function describeLayer(spec: LayerTargetSpec): string {
  const { layer } = spec;
  const from =
    layer.from.type === 'built'
      ? `built layer ${layer.from.tag}`
      : layer.from.type === 'scratch'
        ? 'scratch'
        : `${layer.from.type} ${spec.base?.rel ?? layer.from.url ?? ''}`.trim();
  const parts = [`Build layer ${layer.name} of ${spec.file}, from ${from}`];
  if (layer.imports.length) parts.push(`${layer.imports.length} import(s)`);
  if (layer.run.length) parts.push('run script');
  if (layer.buildOnly) parts.push('build_only (not tagged)');
  if (!spec.cacheable) parts.push('untracked binds (never cached)');
  return parts.join('; ');
}
