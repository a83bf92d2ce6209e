/**
 * Reads one stacker file the way a build of its project will: with the project's
 * substitutions (the plugin's, then the STACKER_*_DIR built-ins of the project's engine
 * dirs), its prerequisites, and the engine's build order. Inference and createDependencies
 * both start from here; results are remembered per file until one of the files read changes.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  buildSubstitutions,
  definitionHash,
  type Layer,
  loadStackerFiles,
  planBuild,
  StackerError,
  type StackerFile,
} from '../engine';
import { engineDirs } from './paths';
import { rootOf } from './projects';

/** A layer of the analysed file, with what it needs and the hash of its definition. */
export interface AnalyzedLayer {
  layer: Layer;
  /** Layers built before this one, each with the absolute path of the file defining it. */
  needs: { name: string; file: string }[];
  /** definitionHash after substitution: changes exactly when this layer's definition does. */
  definition: string;
}

/** A stacker file that parsed and planned. */
export interface AnalyzedFile {
  /** Workspace-relative path of the stacker file, and its project root. */
  file: string;
  root: string;
  /** The file itself and every prerequisite, by absolute path. */
  files: Map<string, StackerFile>;
  own: StackerFile;
  /** The file's own layers, in build order. */
  layers: AnalyzedLayer[];
}

/** What analysing a file gave: the analysis, or the located error that stops it. */
export type Analysis = { ok: AnalyzedFile; error?: undefined } | { ok?: undefined; error: Error };

interface CacheEntry {
  key: string;
  stamps: string;
  analysis: AnalyzedFile;
}

const cache = new Map<string, CacheEntry>();

/**
 * Analyses the stacker file at `file` (relative to `workspaceRoot`) with `substitute`
 * (`KEY=VALUE` entries, from the plugin's or the executor's options). Never throws for a
 * problem in the files: a StackerError (or any other failure to read them) is returned as
 * `error`, so one broken file cannot stop the rest of the workspace.
 */
export function analyzeFile(
  workspaceRoot: string,
  file: string,
  substitute: readonly string[],
): Analysis {
  const path = join(workspaceRoot, file);
  const key = `${workspaceRoot}\0${substitute.join('\0')}`;
  const cached = cache.get(path);
  if (cached && cached.key === key && cached.stamps === stampsOf(cached.analysis.files)) {
    return { ok: cached.analysis };
  }

  // Only successes are remembered: a failure may come from a file not known to be involved
  // (a missing prerequisite), so it is worked out again each time.
  const analysis = analyzeUncached(workspaceRoot, file, substitute);
  if (analysis.ok)
    cache.set(path, { key, stamps: stampsOf(analysis.ok.files), analysis: analysis.ok });
  return analysis;
}

function analyzeUncached(
  workspaceRoot: string,
  file: string,
  substitute: readonly string[],
): Analysis {
  const path = join(workspaceRoot, file);
  const root = rootOf(file);
  try {
    const substitutions = buildSubstitutions({
      flags: [...substitute],
      ...engineDirs(workspaceRoot, root),
    });
    const files = loadStackerFiles([path], { substitutions });
    const plan = planBuild(files, [path]);
    const own = files.get(path) as StackerFile;
    const definedIn = new Map<string, string>();
    for (const f of files.values()) for (const l of f.layers) definedIn.set(l.name, f.path);

    const layers: AnalyzedLayer[] = [];
    for (const step of plan.files) {
      if (step.file.path !== path) continue;
      for (const planned of step.layers) {
        layers.push({
          layer: planned.layer,
          needs: planned.needs.map((name) => ({ name, file: definedIn.get(name) ?? path })),
          definition: definitionHash(planned.layer, dirname(path)),
        });
      }
    }
    return { ok: { file, root, files, own, layers } };
  } catch (err) {
    if (err instanceof StackerError) return { error: err };
    const message = err instanceof Error ? err.message : String(err);
    return { error: new StackerError(`couldn't read stacker file: ${message}`, { file: path }) };
  }
}

/** The modification stamps of every file an analysis read, to tell when it is stale. */
function stampsOf(files: Map<string, StackerFile>): string {
  return [...files.keys()].map((p) => `${p}:${stamp(p)}`).join('\n');
}

function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}
