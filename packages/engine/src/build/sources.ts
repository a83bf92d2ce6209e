/**
 * What `build` and `publish` both start from: the stacker files asked for (with their
 * prerequisites), substituted and parsed, and the order their layers build in.
 */
import { resolve } from 'node:path';
import type { Logger } from '../log';
import { buildSubstitutions, loadStackerFiles } from '../parse';
import type { StackerFile } from '../parse/types';
import { type BuildPlan, planBuild } from '../plan/order';

/** The options naming stacker files and how to read them, shared by build and publish. */
export interface StackerFileOptions {
  /** Stacker files, relative to `cwd`; their prerequisites are read too. */
  stackerFiles: string[];
  /** Directory relative paths are resolved against; default: the process's. */
  cwd?: string;
  /** `--stacker-dir`, `--roots-dir`, `--oci-dir` (stacker's defaults: .stacker, roots, oci). */
  stackerDir?: string;
  rootsDir?: string;
  ociDir?: string;
  /** `--work-dir`: only the value of `${{STACKER_WORK_DIR}}` ("" without it). */
  workDir?: string;
  /** `--substitute KEY=VALUE`, in order. */
  substitutions?: string[];
  /** `--substitute-file`: a YAML map of substitutions. */
  substituteFile?: string;
  log: Logger;
}

/** The loaded files (keyed by absolute path), their plan, and the absolute paths asked for. */
export interface LoadedSources {
  files: Map<string, StackerFile>;
  plan: BuildPlan;
  paths: string[];
}

/**
 * Loads and plans the stacker files of `opts`; `dirs` are the absolute storage dirs. With
 * `dummyForMissing` (publish, as in stacker), a placeholder without value or default gets the
 * value `dummy`, with a warning (once per name), instead of failing.
 */
export function loadSources(
  opts: StackerFileOptions & { requireHash?: boolean; dummyForMissing?: boolean },
  dirs: { stackerDir: string; rootsDir: string; ociDir: string },
): LoadedSources {
  const cwd = opts.cwd ?? process.cwd();
  const substitutions = buildSubstitutions({
    flags: opts.substitutions ?? [],
    file: opts.substituteFile && resolve(cwd, opts.substituteFile),
    workDir: opts.workDir && resolve(cwd, opts.workDir),
    ...dirs,
  });
  // A url stays as given, so that the loader can say urls are not supported.
  const paths = opts.stackerFiles.map((f) => (f.includes('://') ? f : resolve(cwd, f)));
  const files = loadStackerFiles(paths, {
    substitutions,
    requireHash: opts.requireHash,
    missingValue: opts.dummyForMissing ? dummyFor(opts.log) : undefined,
    warn: (m) => opts.log.warn(m),
    debug: (m) => opts.log.debug(m),
  });
  const plan = planBuild(
    files,
    [...files.keys()].filter((p) => paths.includes(p)),
  );
  return { files, plan, paths };
}

/** Stacker publish's stand-in for a missing substitution, said once per name. */
function dummyFor(log: Logger): (name: string) => string {
  const said = new Set<string>();
  return (name) => {
    if (!said.has(name)) {
      said.add(name);
      log.warn(
        `no value for substitution ${name}: using "dummy", as stacker publish does ` +
          "(give the build's --substitute flags for its layers to count as built)",
      );
    }
    return 'dummy';
  };
}
