import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { BuildCache, resultManifests } from '../cache/store';
import { parseLayerTypes } from '../layer-types/types';
import { OciLayout } from '../oci/layout';
import type { StackerFile } from '../parse/types';
import type { BuildPlan, PlannedLayer } from '../plan/order';
import { Roots } from '../storage/roots';
import { removeDeadTemps } from '../util/fs';
import { ENGINE_VERSION } from '../version';
import { registerBuild } from './activity';
import type { BuildContext, LayerOutcome } from './context';
import { findExports } from './export';
import { makeStamp } from './image';
import { buildLayer } from './layer';
import {
  type BuildOptions,
  checkLayerTypes,
  checkPrivileges,
  gzipLevelOf,
  resolveDirs,
  sourceDateEpoch,
} from './options';
import { loadSources } from './sources';

/** What a build did, layer by layer, in build order. */
export interface BuildSummary {
  plan: BuildPlan;
  layers: LayerOutcome[];
}

/**
 * Builds stacker files the way `stacker build` does: parse (with substitutions), order files
 * and layers, then build or reuse each layer and tag the results in the OCI dir. Throws a
 * StackerError locating the problem on any failure; images tagged before the failure stay as
 * they were.
 */
export async function build(opts: BuildOptions): Promise<BuildSummary> {
  const { log } = opts;
  const dirs = resolveDirs(opts);
  const sde = sourceDateEpoch(opts);
  checkLayerTypes(opts.layerTypes);
  const gzipLevel = gzipLevelOf(opts.gzipLevel);

  // Parse and plan.
  const cwd = opts.cwd ?? process.cwd();
  const { files, plan } = loadSources(opts, dirs);
  logOrder(plan, cwd, opts.orderOnly ? log.info : log.debug);
  if (opts.orderOnly) return { plan, layers: [] };

  // Storage.
  checkPrivileges();
  mkdirSync(dirs.rootsDir, { recursive: true });
  mkdirSync(dirs.stackerDir, { recursive: true });
  const layout = await OciLayout.open(dirs.ociDir, { create: true });
  const activity = registerBuild(dirs.stackerDir);
  const ctx: BuildContext = {
    settings: {
      ...dirs,
      sourceDateEpoch: sde,
      noCache: opts.noCache ?? false,
      noCacheOnly: opts.noCache && opts.layers ? new Set(opts.layers) : undefined,
      debug: opts.debug ?? false,
      onRunFailure: opts.onRunFailure,
      annotationsNamespace: opts.annotationsNamespace ?? 'io.stackeroci',
      fileAnnotations: opts.fileAnnotations ?? true,
      version: ENGINE_VERSION,
      gzipLevel,
      reportsOutcomes: opts.reportsOutcomes ?? false,
      layerTypes: parseLayerTypes(opts.layerTypes, opts.verity ?? true),
    },
    log,
    roots: new Roots(dirs.rootsDir),
    layout,
    cache: new BuildCache(dirs.stackerDir, (m) => log.warn(m)),
    stamp: makeStamp(sde, `${process.env.SUDO_USER || userInfo().username}@${hostname()}`),
    available: new Map(),
    exports: findExports(opts.layerStores ?? []),
    exportDirFor: (name) =>
      opts.exportDir && (!opts.layers || opts.layers.includes(name))
        ? join(opts.exportDir, name)
        : undefined,
    gitVersion: memoize(gitVersion),
    signal: opts.signal,
    env: opts.env ?? process.env,
  };

  // Remove what killed builds left half-written in the roots, OCI and cache dirs.
  const stale = [
    ...(await ctx.roots.removeStaleTemps()),
    ...removeDeadTemps(dirs.ociDir),
    ...removeDeadTemps(dirname(dirs.ociDir), basename(dirs.ociDir)),
    ...removeDeadTemps(ctx.cache.dir),
  ];
  if (stale.length) log.debug(`removed temp dirs of killed builds: ${stale.join(', ')}`);

  // Build, file by file, layer by layer.
  const wanted = opts.layers ? neededLayers(plan, opts.layers) : undefined;
  const outcomes: LayerOutcome[] = [];
  try {
    for (const { layers } of plan.files) {
      for (const planned of layers) {
        if (wanted && !wanted.has(planned.layer.name)) continue;
        opts.signal?.throwIfAborted();
        const file = files.get(planned.layer.file) as StackerFile;
        outcomes.push(await buildLayer(ctx, file, planned));
      }
    }

    // Drop blobs nothing refers to any more, unless another build is running.
    if (activity.alone()) {
      const keep = ctx.cache.entries().flatMap((e) => resultManifests(e.result).map(([, d]) => d));
      const { removed } = await layout.gc({ keep });
      if (removed.length)
        log.debug(`removed ${removed.length} unreferenced blobs from ${dirs.ociDir}`);
    }
  } finally {
    activity.done();
  }
  return { plan, layers: outcomes };
}

/** The named layers and, transitively, every layer they need. */
function neededLayers(plan: BuildPlan, names: string[]): Set<string> {
  const byName = new Map<string, PlannedLayer>();
  for (const f of plan.files) for (const l of f.layers) byName.set(l.layer.name, l);
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    const planned = byName.get(name);
    if (!planned) {
      const known = [...byName.keys()].join(', ');
      throw new Error(`no layer ${name} in the stacker files (layers: ${known})`);
    }
    wanted.add(name);
    for (const dep of planned.needs) visit(dep);
  };
  for (const n of names) visit(n);
  return wanted;
}

function logOrder(plan: BuildPlan, cwd: string, out: (m: string) => void): void {
  out('build order:');
  plan.files.forEach(({ file, layers }, i) => {
    const pre = file.prerequisites.map((p) => relative(cwd, p) || '.');
    out(`${i + 1} build ${relative(cwd, file.path)}: requires: [${pre.join(' ')}]`);
    out(`  layers: ${layers.map((l) => l.layer.name).join(', ')}`);
  });
}

/** stacker's git_version annotation: `git describe --tags` (or the commit) plus `-dirty`. */
function gitVersion(dir: string): string | undefined {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    git('rev-parse', '--is-inside-work-tree');
  } catch {
    return undefined;
  }
  let version: string;
  try {
    version = git('describe', '--tags');
  } catch {
    try {
      version = git('rev-parse', 'HEAD');
    } catch {
      return undefined;
    }
  }
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  return dirty ? `${version}-dirty` : version;
}

function memoize(fn: (dir: string) => string | undefined): (dir: string) => string | undefined {
  const seen = new Map<string, string | undefined>();
  return (dir) => {
    if (!seen.has(dir)) seen.set(dir, fn(dir));
    return seen.get(dir);
  };
}
