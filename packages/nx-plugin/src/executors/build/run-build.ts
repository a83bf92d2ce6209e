/**
 * One build task, whatever runs it (the executor, a batch, a batch's child process):
 *
 * - with `layer`: builds that layer through the engine (its ancestors are restored from
 *   their tasks' outputs, or reused from the engine's cache) and exports it as the task's
 *   output, with a `layer.key` file its dependents' hashes read;
 * - without: builds every layer of the file whose output is missing (none, when Nx ran the
 *   layer targets first), then assembles the file's OCI layout from the layer outputs.
 *
 * Engine state lives under `.nx-stacker/` and outputs under `dist/stacker/` (workspace/paths).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, findExports, type StackerFile } from '../../engine';
import { type AnalyzedFile, analyzeFile } from '../../workspace/analyze';
import {
  engineDirs,
  imageOutput,
  LAYER_KEY_FILE,
  layerOutput,
  layersDir,
  prepareStateDir,
} from '../../workspace/paths';
import { rootOf } from '../../workspace/projects';
import { assembleImage } from './assemble';
import type { BuildExecutorOptions } from './options';
import { formatBytes, type Reporter } from './reporter';

/** Runs one task; reports through `reporter` and resolves to whether it succeeded. */
export async function runBuild(args: {
  options: BuildExecutorOptions;
  workspaceRoot: string;
  verbose: boolean;
  reporter: Reporter;
  signal: AbortSignal;
}): Promise<boolean> {
  const { options, reporter, signal } = args;
  try {
    const task = taskFor(options, args.workspaceRoot, args.verbose);
    prepareStateDir(args.workspaceRoot);
    if (options.layer) await buildLayers(task, [options.layer], reporter, signal);
    else await buildImage(task, reporter, signal);
    return true;
  } catch (err) {
    reporter.failure(err);
    return false;
  }
}

/**
 * Set to 1 (with `--skip-nx-cache`, so that Nx runs the tasks) to rebuild each layer task's
 * layer instead of reusing the engine's cached result: for run scripts that fetch packages,
 * to pick up what changed upstream. The CLI's `--no-cache`, a task at a time.
 */
export const NO_CACHE_ENV = 'NX_STACKER_NO_CACHE';
const NO_CACHE_VALUES = new Set(['1', 'true']);

/** One run of the executor, resolved: the file, its analysis and where things go. */
interface Task {
  workspaceRoot: string;
  options: BuildExecutorOptions;
  analyzed: AnalyzedFile;
  /** Absolute dir of this project's layer outputs. */
  exportsDir: string;
  /** Absolute output dir of one of this project's layers. */
  outputOf(layer: string): string;
  /** Absolute dirs of the layer outputs of this file's project and its prerequisites'. */
  stores: string[];
  verbose: boolean;
}

/** Reads the stacker file (and prerequisites); a broken file throws its located error. */
function taskFor(options: BuildExecutorOptions, workspaceRoot: string, verbose: boolean): Task {
  const analysis = analyzeFile(workspaceRoot, options.stackerFile, options.substitute ?? []);
  if (!analysis.ok) throw analysis.error;
  const stores = [...analysis.ok.files.keys()].map((path) =>
    join(workspaceRoot, layersDir(rootOf(relative(workspaceRoot, path)))),
  );
  return {
    workspaceRoot,
    options,
    analyzed: analysis.ok,
    exportsDir: join(workspaceRoot, layersDir(analysis.ok.root)),
    outputOf: (layer) => join(workspaceRoot, layerOutput(analysis.ok.root, layer)),
    stores: [...new Set(stores)],
    verbose,
  };
}

/**
 * Builds `layers` (and what they need) through the engine, moves each one's export to its
 * task output and writes its `layer.key`: the engine's cache key and image digest, which the
 * hashes of the layers built on it read. The engine exports to `<dir>/<layer name>`, so it
 * exports to a staging dir first; output dirs escape `/` in layer names.
 */
async function buildLayers(
  task: Task,
  layers: string[],
  reporter: Reporter,
  signal: AbortSignal,
): Promise<void> {
  const dirs = engineDirs(task.workspaceRoot, task.analyzed.root);
  const staging = join(dirs.stackerDir, `export-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const summary = await build({
      stackerFiles: [task.options.stackerFile],
      cwd: task.workspaceRoot,
      ...dirs,
      substitutions: task.options.substitute ?? [],
      layerTypes: task.options.layerTypes,
      verity: task.options.verity,
      gzipLevel: task.options.gzipLevel,
      // Neither the whole file nor the commit is an input of a layer task: stamping them
      // would give a layer rebuilt later another digest, and miss the cache of every layer
      // built on it.
      fileAnnotations: false,
      // Only the layers of this task: their ancestors are other tasks' business.
      noCache: NO_CACHE_VALUES.has(process.env[NO_CACHE_ENV] ?? ''),
      layers,
      layerStores: task.stores,
      reportsOutcomes: true,
      exportDir: staging,
      log: reporter.log,
      debug: task.verbose,
      signal,
    });
    for (const outcome of summary.layers) {
      const exported = layers.includes(outcome.name);
      if (exported) {
        const fresh = join(staging, outcome.name);
        writeFileSync(join(fresh, LAYER_KEY_FILE), `${outcome.key}\n${outcome.manifest.digest}\n`);
        replaceDir(fresh, task.outputOf(outcome.name));
      }
      reporter.outcome(outcome, exported);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Puts the complete dir `fresh` at `output`, replacing what was there. Sibling tasks of a
 * batch read every layer output of the project while this runs, so the old output is first
 * renamed aside (under a dot name, which they skip) and removed only once `fresh` is in place.
 */
function replaceDir(fresh: string, output: string): void {
  mkdirSync(dirname(output), { recursive: true });
  const aside = join(dirname(output), `.replaced-${process.pid}-${randomBytes(4).toString('hex')}`);
  let moved = false;
  try {
    renameSync(output, aside);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  renameSync(fresh, output);
  if (moved) rmSync(aside, { recursive: true, force: true });
}

/** Builds any layer whose output is missing, then assembles the file's OCI layout. */
async function buildImage(task: Task, reporter: Reporter, signal: AbortSignal): Promise<void> {
  const own = task.analyzed.own.layers;
  const exported = new Set(findExports([task.exportsDir]).map((e) => e.entry.name));
  const missing = own.map((l) => l.name).filter((name) => !exported.has(name));
  if (missing.length) {
    reporter.info(`building layers without an output: ${missing.join(', ')}`);
    await buildLayers(task, missing, reporter, signal);
  }

  const dirs = engineDirs(task.workspaceRoot, task.analyzed.root);
  const summary = await assembleImage({
    dir: join(task.workspaceRoot, imageOutput(task.analyzed.root)),
    layers: own,
    outputOf: task.outputOf,
    stores: task.stores,
    baseLayouts: baseLayouts([...task.analyzed.files.values()]),
    fallbackLayouts: [dirs.ociDir],
  });
  const how = summary.copied ? `${summary.linked} linked, ${summary.copied} copied` : 'hard-linked';
  reporter.info(
    `assembled ${summary.dir}: ${summary.tags.length} tag(s) ${summary.tags.join(', ')} ` +
      `(${summary.blobs} blobs, ${formatBytes(summary.bytes)}, ${how})`,
  );
}

/** The local OCI layouts layers of these files start from: their blobs are the image's too. */
function baseLayouts(files: StackerFile[]): string[] {
  const dirs: string[] = [];
  for (const file of files) {
    for (const layer of file.layers) {
      const url = layer.from.url;
      if (layer.from.type !== 'oci' || !url || url.includes('://')) continue;
      const colon = url.indexOf(':');
      dirs.push(colon < 0 ? url : url.slice(0, colon));
    }
  }
  return dirs;
}
