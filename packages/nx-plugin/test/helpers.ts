import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type {
  CreateDependenciesContext,
  CreateNodesResult,
  ProjectConfiguration,
  TargetConfiguration,
} from '@nx/devkit';
import { createDependencies, createNodes } from '../src/index';
import { inferProjects } from '../src/inference/projects';
import { normalizeOptions, type StackerPluginOptions } from '../src/options';

/** A temp workspace holding `files` (path -> content), removed after the test. */
export function workspace(t: TestContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nx-stacker-plugin-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFiles(root, files);
  return root;
}

/** Writes files (path -> content) under `root`, creating directories. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Runs the plugin's createNodes as Nx does; returns the projects by root. */
export async function nodes(
  root: string,
  files: string[],
  options?: StackerPluginOptions,
): Promise<Record<string, ProjectConfiguration>> {
  const results = await createNodes[1](files, options, {
    nxJsonConfiguration: {},
    workspaceRoot: root,
  });
  return merge(results.map(([, r]) => r));
}

/** inferProjects with its warnings collected. */
export function inferWithWarnings(
  root: string,
  files: string[],
  options?: StackerPluginOptions,
): { projects: Record<string, ProjectConfiguration>; warnings: string[] } {
  const warnings: string[] = [];
  const results = inferProjects({
    files,
    workspaceRoot: root,
    options: normalizeOptions(options),
    warn: (m) => warnings.push(m),
  });
  return { projects: merge(results.map(([, r]) => r)), warnings };
}

function merge(results: CreateNodesResult[]): Record<string, ProjectConfiguration> {
  const projects: Record<string, ProjectConfiguration> = {};
  for (const r of results) {
    for (const [root, p] of Object.entries(r.projects ?? {})) projects[root] = { root, ...p };
  }
  return projects;
}

/** One target of the project at `root`; fails the test when it is missing. */
export function target(
  projects: Record<string, ProjectConfiguration>,
  root: string,
  name: string,
): TargetConfiguration {
  const t = projects[root]?.targets?.[name];
  if (!t)
    throw new Error(`no target ${name} in ${root}: ${Object.keys(projects[root]?.targets ?? {})}`);
  return t;
}

/**
 * The part of a project's configuration Nx hashes into every one of its tasks (root, and per
 * target: name, executor, outputs, options, configurations, parallelism).
 */
export function hashedConfig(project: ProjectConfiguration): unknown {
  return Object.entries(project.targets ?? {}).map(([name, t]) => [
    name,
    t.executor,
    t.outputs,
    t.options,
    t.configurations,
    t.parallelism,
  ]);
}

/** The value a layer's definition contributes to its hash: its `runtime` input. */
export function definitionInput(t: TargetConfiguration): string {
  const input = (t.inputs ?? []).find((i) => typeof i === 'object' && 'runtime' in i);
  if (!input || typeof input !== 'object' || !('runtime' in input))
    throw new Error('no runtime input');
  return input.runtime;
}

/** createDependencies over the projects createNodes inferred, as Nx would call it. */
export async function dependencies(
  root: string,
  files: string[],
  extra: ProjectConfiguration[] = [],
) {
  const projects: Record<string, ProjectConfiguration> = {};
  for (const p of [...Object.values(await nodes(root, files)), ...extra]) {
    projects[p.name as string] = p;
  }
  const fileMap: CreateDependenciesContext['fileMap'] = { projectFileMap: {}, nonProjectFiles: [] };
  for (const [name, p] of Object.entries(projects)) {
    fileMap.projectFileMap[name] = files
      .filter((f) => dirname(f) === p.root)
      .map((file) => ({ file, hash: '1' }));
  }
  const context: CreateDependenciesContext = {
    externalNodes: {},
    projects,
    fileMap,
    filesToProcess: fileMap,
    nxJsonConfiguration: {},
    workspaceRoot: root,
  };
  const deps = await createDependencies(undefined, context);
  return deps.map((d) => `${d.source} -> ${d.target}`).sort();
}

/** A layer from scratch (or from `from`), with a run line so definitions differ. */
export function layer(name: string, from = 'type: scratch', extra = ''): string {
  return `${name}:\n  from:\n    ${from.split('\n').join('\n    ')}\n  run: echo ${name}\n${extra}`;
}
