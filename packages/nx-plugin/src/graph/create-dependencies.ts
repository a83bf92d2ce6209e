/**
 * Project edges for `nx graph` and `nx affected`: a stacker project depends on every other
 * project holding something its file reads. Task dependencies (dependsOn) are inferred
 * separately, per layer; these edges are what lets Nx see the same relation between projects.
 */
import { relative, sep } from 'node:path';
import type {
  CreateDependencies,
  CreateDependenciesContext,
  DependencyType,
  ProjectConfiguration,
  RawProjectGraphDependency,
} from '@nx/devkit';
import { BUILD_EXECUTOR, type BuildExecutorOptions } from '../executors/build/options';
import { localBase, localImports } from '../inference/bases';
import { normalizeOptions, type StackerPluginOptions } from '../options';
import { type AnalyzedFile, analyzeFile } from '../workspace/analyze';
import { imageOutput } from '../workspace/paths';

/**
 * Static edges from each stacker project to the projects holding its prerequisites, the
 * files defining layers it builds on (`built` tags, `stacker://` urls), its local bases
 * (including another stacker project's assembled image) and its local imports. Files that
 * do not parse add no edges; inference reports them.
 */
export const createDependencies: CreateDependencies<StackerPluginOptions> = (options, context) => {
  const normalized = normalizeOptions(options);
  const roots = new Map<string, string>();
  for (const [name, project] of Object.entries(context.projects)) roots.set(project.root, name);
  for (const [name, project] of Object.entries(context.projects)) {
    roots.set(imageOutput(project.root), roots.get(imageOutput(project.root)) ?? name);
  }

  const deps: RawProjectGraphDependency[] = [];
  for (const [source, file] of stackerProjects(context.projects)) {
    const analysis = analyzeFile(context.workspaceRoot, file, normalized.substitute);
    if (!analysis.ok) continue;
    const targets = new Set<string>();
    for (const path of pathsRead(analysis.ok, context.workspaceRoot)) {
      const target = ownerOf(relativeTo(context.workspaceRoot, path), roots);
      if (target && target !== source) targets.add(target);
    }
    for (const target of targets) {
      if (!knowsFile(context, source, file)) continue;
      deps.push({ source, target, type: STATIC, sourceFile: file });
    }
  }
  return deps;
};

/** Each project with a target of our executor, and its stacker file. */
function stackerProjects(projects: Record<string, ProjectConfiguration>): [string, string][] {
  const found: [string, string][] = [];
  for (const [name, project] of Object.entries(projects)) {
    const target = Object.values(project.targets ?? {}).find(
      (t) => t.executor === BUILD_EXECUTOR && (t.options as BuildExecutorOptions)?.stackerFile,
    );
    if (target) found.push([name, (target.options as BuildExecutorOptions).stackerFile]);
  }
  return found;
}

/** Every absolute local path the file's build reads from outside its own layers. */
function pathsRead(analyzed: AnalyzedFile, workspaceRoot: string): string[] {
  const paths = [...analyzed.own.prerequisites];
  const noOwner = () => undefined;
  for (const { layer, needs } of analyzed.layers) {
    for (const need of needs) paths.push(need.file);
    const base = localBase(layer, workspaceRoot, noOwner);
    if (base) paths.push(base.path);
    for (const imp of localImports(layer, workspaceRoot, noOwner)) paths.push(imp.path);
  }
  return paths;
}

/** The project whose root is the longest prefix of `rel` (a workspace-relative path). */
function ownerOf(rel: string | undefined, roots: Map<string, string>): string | undefined {
  if (rel === undefined) return undefined;
  for (let dir = rel; ; ) {
    const name = roots.get(dir);
    if (name) return name;
    const slash = dir.lastIndexOf('/');
    if (slash < 0) return roots.get('.') ?? roots.get('');
    dir = dir.slice(0, slash);
  }
}

function relativeTo(workspaceRoot: string, path: string): string | undefined {
  const rel = relative(workspaceRoot, path.replace(/\/+$/, ''));
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * Nx rejects a static edge whose source file is not one of the source project's files (a
 * gitignored stacker.yaml, say); such edges are dropped rather than failing the graph.
 */
function knowsFile(context: CreateDependenciesContext, project: string, file: string): boolean {
  return (context.fileMap.projectFileMap[project] ?? []).some((f) => f.file === file);
}

/**
 * DependencyType.static without loading @nx/devkit at run time (a third of a second on
 * every Nx command): the enum's value is this string.
 */
const STATIC = 'static' as DependencyType.static;
