/**
 * From stacker files to Nx projects: each file becomes a project rooted at its directory with
 * one target per layer and a build target. Cross-file references (prerequisites' layers,
 * bases inside other projects) become task dependencies on the other project's targets.
 */
import { join } from 'node:path';
import type { CreateNodesResult, ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { isStackerError } from '../engine';
import type { NormalizedOptions } from '../options';
import { type AnalyzedFile, analyzeFile } from '../workspace/analyze';
import { imageOutput } from '../workspace/paths';
import { ProjectLookup, type ProjectRef, rootOf } from '../workspace/projects';
import { bindsCacheable, localBase, localImports, type OwnerOf } from './bases';
import { layerTargetNames } from './target-names';
import {
  brokenTarget,
  imageTarget,
  type LayerTargetSpec,
  layerTarget,
  publishTarget,
} from './targets';

/** Receives one message per problem to fix: a broken file, an input Nx cannot hash. */
export type Warn = (message: string) => void;

interface KnownFile {
  file: string;
  root: string;
  name: string;
  analyzed?: AnalyzedFile;
  targets?: Map<string, string>;
}

/**
 * One CreateNodesResult per stacker file (workspace-relative paths), in the order given. A
 * file that does not parse or plan still becomes a project, whose build target fails with
 * the located error; the error is also passed to `warn`.
 */
export function inferProjects(args: {
  files: readonly string[];
  workspaceRoot: string;
  options: NormalizedOptions;
  warn: Warn;
}): [string, CreateNodesResult][] {
  const { workspaceRoot, options } = args;
  // Paths in messages are shown relative to the workspace, as Nx shows project files.
  const warn: Warn = (message) => args.warn(message.split(`${workspaceRoot}/`).join(''));
  const lookup = new ProjectLookup(workspaceRoot);
  const known = new Map<string, KnownFile>();
  for (const file of args.files) {
    const root = rootOf(file);
    const analysis = analyzeFile(workspaceRoot, file, options.substitute);
    const entry: KnownFile = { file, root, name: lookup.nameOf(root) };
    if (analysis.ok) {
      entry.analyzed = analysis.ok;
      entry.targets = layerTargetNames(
        analysis.ok.own.layers.map((l) => l.name),
        options,
      );
    } else {
      warn(`${describeError(analysis.error)}\n  (project ${entry.name} will fail to build)`);
    }
    known.set(join(workspaceRoot, file), entry);
  }

  const ownerOf = ownerFinder(workspaceRoot, known, lookup);
  return [...known.values()].map((entry) => [
    entry.file,
    {
      projects: {
        [entry.root]: projectOf(entry, { workspaceRoot, known, ownerOf, options, warn }),
      },
    },
  ]);
}

interface Resolution {
  workspaceRoot: string;
  known: Map<string, KnownFile>;
  ownerOf: OwnerOf;
  options: NormalizedOptions;
  warn: Warn;
}

function projectOf(entry: KnownFile, res: Resolution): ProjectConfiguration {
  const { options } = res;
  const project = { name: entry.name, root: entry.root };
  if (!entry.analyzed || !entry.targets) {
    return {
      ...project,
      targets: { [options.buildTargetName]: brokenTarget(entry.file, 'the file has errors') },
      metadata: {
        technologies: ['stacker'],
        description: `stacker image ${entry.file} (cannot be built: the file has errors)`,
      },
    };
  }

  const targets: Record<string, TargetConfiguration> = {};
  for (const spec of layerSpecs(entry, entry.analyzed, res)) {
    const name = entry.targets.get(spec.layer.name) as string;
    targets[name] = layerTarget(spec, options);
  }
  const own = entry.analyzed.own.layers;
  const tags = own.filter((l) => !l.buildOnly).map((l) => l.name);
  targets[options.buildTargetName] = imageTarget({
    file: entry.file,
    root: entry.root,
    layerTargets: own.map((l) => entry.targets?.get(l.name) as string),
    tags,
    options,
  });
  const publish = { file: entry.file, layers: tags, options };
  targets[options.publishTargetName] = publishTarget({ ...publish, release: false });
  if (options.releaseTargetName) {
    targets[options.releaseTargetName] = publishTarget({ ...publish, release: true });
  }
  return {
    ...project,
    targets,
    metadata: {
      technologies: ['stacker'],
      description:
        `stacker image ${entry.file}: ${own.length} layer(s), ` +
        `built into ${imageOutput(entry.root)}`,
      targetGroups: { 'stacker layers': own.map((l) => entry.targets?.get(l.name) as string) },
    },
  };
}

/** Resolves each layer's parents, base and imports into a LayerTargetSpec. */
function layerSpecs(entry: KnownFile, analyzed: AnalyzedFile, res: Resolution): LayerTargetSpec[] {
  // Only other projects own a layer's sources; its own project's files are plain inputs.
  const ownerOf: OwnerOf = (path) => {
    const owner = res.ownerOf(path);
    return owner && owner.root !== entry.root ? owner : undefined;
  };

  return analyzed.layers.map(({ layer, needs, definition }) => {
    const parents: LayerTargetSpec['parents'] = [];
    for (const need of needs) {
      if (need.file === layer.file) {
        parents.push(entry.targets?.get(need.name) as string);
        continue;
      }
      const other = res.known.get(need.file);
      const target = other?.targets?.get(need.name);
      if (other && target) parents.push({ project: other.name, target });
      else res.warn(notAProject(entry.file, layer.name, need));
    }

    const base = localBase(layer, res.workspaceRoot, ownerOf);
    const imports = localImports(layer, res.workspaceRoot, ownerOf);
    // Binds outside the workspace or without `hash: true` make the task uncacheable instead.
    const cacheable = bindsCacheable(layer, res.workspaceRoot);
    for (const source of [...(base ? [base] : []), ...imports]) {
      if (cacheable && source.rel === undefined) {
        res.warn(untracked(entry.file, layer.name, source.path));
      }
    }
    // A base under another stacker project's image dir is made by its build target; any
    // other project is asked for its base target.
    const baseTask = base?.owner && {
      project: base.owner.name,
      target:
        base.rel === imageOutput(base.owner.root)
          ? res.options.buildTargetName
          : res.options.baseTargetName,
    };
    return {
      file: entry.file,
      root: entry.root,
      layer,
      definition,
      parents,
      imports,
      base,
      baseTask,
      cacheable,
    };
  });
}

/**
 * Owners of paths, as inference knows them: an assembled image under dist/stacker belongs to
 * the stacker project that builds it; anything else to the project whose root holds it.
 */
function ownerFinder(
  workspaceRoot: string,
  known: Map<string, KnownFile>,
  lookup: ProjectLookup,
): OwnerOf {
  const images = new Map<string, ProjectRef>();
  for (const k of known.values()) {
    images.set(join(workspaceRoot, imageOutput(k.root)), { root: k.root, name: k.name });
  }
  return (path) => images.get(path.replace(/\/+$/, '')) ?? lookup.ownerOf(path);
}

function notAProject(file: string, layer: string, need: { name: string; file: string }): string {
  return (
    `${file}: layer '${layer}' needs layer '${need.name}' of ${need.file}, which is not an ` +
    "Nx project (is it outside the plugin's include/exclude?); it is built inside this " +
    "layer's task, and changes to it do not invalidate this layer's cache"
  );
}

function untracked(file: string, layer: string, path: string): string {
  return (
    `${file}: layer '${layer}' reads ${path}, outside the workspace; Nx cannot hash it, so ` +
    "changes to it do not invalidate the layer's cache"
  );
}

/** `file:line:col: message` and the hint, for a warning about a broken stacker file. */
export function describeError(err: Error): string {
  return isStackerError(err) ? err.format() : err.message;
}
