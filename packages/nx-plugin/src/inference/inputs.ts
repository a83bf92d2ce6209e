/**
 * A layer task's inputs: what Nx hashes to decide whether the layer's cached output still
 * holds. They are chosen so that a change reaches exactly the layer it concerns and the
 * layers built on it, never a sibling:
 *
 * - the layer's definition after substitution, with the engine's version, as a `runtime`
 *   input that echoes their hash. Nx hashes each target's `options` together with those of
 *   every other target of the project, so the definition cannot go there without making one
 *   layer's edit invalidate them all; `inputs` are hashed per task.
 * - its local imports, as filesets read straight from disk (`includeIgnored`), because the
 *   engine imports gitignored files too; and their modes, as a `runtime` input listing them
 *   (Nx hashes file contents only, and an image with a script that lost its `x` bit is a
 *   different image);
 * - for each layer it is built on, that layer's `layer.key` (its engine cache key and image
 *   digest) from the parent task's output, so a parent's change reaches its children;
 * - for a local OCI base its index.json, for a tar base the tarball;
 * - SOURCE_DATE_EPOCH, which stamps every image.
 */
import type { TargetConfiguration } from '@nx/devkit';
import { CACHE_VERSION, ENGINE_VERSION } from '../engine';
import { LAYER_KEY_FILE } from '../workspace/paths';
import type { LocalBase, LocalSource } from './bases';

/** One entry of a target's `inputs` (the devkit does not export the type by name). */
type InputDefinition = NonNullable<TargetConfiguration['inputs']>[number];

/** One layer's inputs; `fromOtherProject` says which sources another project's task makes. */
export function layerInputs(args: {
  definition: string;
  imports: LocalSource[];
  base?: LocalBase;
  hasParents: boolean;
  /** True when `base` is made by another project's task (a task dependency exists). */
  baseFromTask: boolean;
}): InputDefinition[] {
  const inputs: InputDefinition[] = [
    { runtime: definitionCommand(args.definition) },
    { env: 'SOURCE_DATE_EPOCH' },
  ];
  for (const source of args.imports) inputs.push(...filesets(source));
  const local = args.imports.flatMap((source) => (source.rel === undefined ? [] : [source.rel]));
  if (local.length) inputs.push({ runtime: modesCommand(local) });

  // An OCI layout's index.json pins the base's manifest digest, and blobs are named by
  // digest, so the index is enough. When another project's task makes the base, the
  // dependent-output input also makes Nx hash this task only after that task has run.
  const base = args.base;
  if (base?.rel !== undefined) {
    const file = base.type === 'oci' ? `${base.rel}/index.json` : base.rel;
    inputs.push({ fileset: `{workspaceRoot}/${file}`, includeIgnored: true });
    if (args.baseFromTask) inputs.push({ dependentTasksOutputFiles: file });
  }
  if (args.hasParents) inputs.push({ dependentTasksOutputFiles: `**/${LAYER_KEY_FILE}` });
  return inputs;
}

/** The build target's inputs: the keys of the layers it assembles. */
export function imageInputs(): InputDefinition[] {
  return [{ dependentTasksOutputFiles: `**/${LAYER_KEY_FILE}` }];
}

/**
 * What a layer task's output looks like beyond the engine's cache format; raised when the
 * plugin changes it, so that Nx does not restore outputs of the old kind. 2: images without
 * the stacker_yaml and git_version annotations.
 */
const OUTPUT_FORMAT = 2;

/**
 * The shell command whose output stands for a layer's definition in its hash. Only
 * characters no shell interprets, so it runs the same under any `sh`.
 */
export function definitionCommand(definition: string): string {
  const version = `${ENGINE_VERSION}-cache${CACHE_VERSION}-out${OUTPUT_FORMAT}`.replace(
    /[^A-Za-z0-9._-]/g,
    '_',
  );
  return `echo stacker-layer ${version} ${definition.replace(/[^A-Za-z0-9]/g, '')}`;
}

/**
 * The shell command whose output stands for the modes of everything under `paths` (relative
 * to the workspace root, where Nx runs it): GNU find's octal mode and path of each entry,
 * sorted bytewise. A path that does not exist yet lists nothing (the filesets and the engine
 * report it).
 */
export function modesCommand(paths: string[]): string {
  const quoted = paths.map((p) => `'./${p.replace(/'/g, "'\\''")}'`).join(' ');
  return `find ${quoted} -printf '%m %p\\n' 2>/dev/null | LC_ALL=C sort`;
}

/** Filesets covering a local import: the file, the directory's tree, or both if unknown. */
function filesets(source: LocalSource): InputDefinition[] {
  if (source.rel === undefined) return [];
  const file = { fileset: `{workspaceRoot}/${source.rel}`, includeIgnored: true };
  const tree = { fileset: `{workspaceRoot}/${source.rel}/**/*`, includeIgnored: true };
  if (source.kind === 'file') return [file];
  if (source.kind === 'dir') return [tree];
  return [file, tree];
}
