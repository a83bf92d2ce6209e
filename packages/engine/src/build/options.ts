import { type Stats, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { StackerError } from '../errors';
import { parseLayerTypes } from '../layer-types/types';
import type { StackerFileOptions } from './sources';

/** What a caller (the CLI, the Nx executor) asks the engine to build. */
export interface BuildOptions extends StackerFileOptions {
  /**
   * Rebuild instead of reusing cached results: every layer or, with `layers`, just those
   * (the layers they are built on are still reused or restored).
   */
  noCache?: boolean;
  /** Remote imports must carry a `hash`. */
  requireHash?: boolean;
  /** Only work out and log the build order. */
  orderOnly?: boolean;
  /** A command started in the container of a failed `run` step (`--shell-fail`: /bin/sh). */
  onRunFailure?: string;
  /** `--layer-type`: tar, squashfs, erofs, in order (the first is the primary; default tar). */
  layerTypes?: string[];
  /** dm-verity on squashfs and erofs layers (default true; `--no-verity` turns it off). */
  verity?: boolean;
  /**
   * Stamp `<namespace>.stacker.stacker_yaml` (the whole file) and `.git_version` (the
   * `git describe` of its dir) on manifests, as stacker does (default true). Neither is an
   * input of the layer: a layer rebuilt after a sibling's edit, or at another commit, gets
   * another digest although nothing it reads changed. Without them, a layer's digest depends
   * only on its own inputs (and inherited copies of them are dropped).
   */
  fileAnnotations?: boolean;
  /** Namespace of the annotations we add to manifests (default `io.stackeroci`). */
  annotationsNamespace?: string;
  /** Build only these layers (and what they need); default: every layer of the files. */
  layers?: string[];
  /**
   * Dirs holding exported layers (see build/export.ts); a layer whose key matches one is
   * restored from it instead of being built.
   */
  layerStores?: string[];
  /** Export every built or reused layer (of `layers`, when given) to `<exportDir>/<layer>`. */
  exportDir?: string;
  /** Overrides SOURCE_DATE_EPOCH from `env`. */
  sourceDateEpoch?: number;
  /**
   * The caller reports each layer's outcome itself (from the summary or the returned
   * outcomes): the engine's own "built in" / "reused" lines go to the debug level.
   */
  reportsOutcomes?: boolean;
  /**
   * gzip level for new tar layers, 1 (fastest) to 9 (smallest); default 6. Part of every
   * layer's key: layers built with another level are rebuilt.
   */
  gzipLevel?: number;
  debug?: boolean;
  signal?: AbortSignal;
  /** Environment the build reads (SOURCE_DATE_EPOCH, passthrough variables); default: ours. */
  env?: NodeJS.ProcessEnv;
}

/** Absolute stacker, roots and OCI dirs, with stacker's defaults. */
export function resolveDirs(
  opts: Pick<StackerFileOptions, 'cwd' | 'stackerDir' | 'rootsDir' | 'ociDir'>,
): {
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
} {
  const cwd = opts.cwd ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const dirs = {
    stackerDir: abs(opts.stackerDir ?? '.stacker'),
    rootsDir: abs(opts.rootsDir ?? 'roots'),
    ociDir: abs(opts.ociDir ?? 'oci'),
  };
  checkStorageDirs(dirs);
  if (dirs.rootsDir.includes(':')) {
    throw new StackerError(
      `using ':' in the name of --roots-dir (${dirs.rootsDir}) is forbidden ` +
        'due to overlay constraints',
      {},
      'choose a roots dir whose path has no colon',
    );
  }
  return dirs;
}

/**
 * Refuses storage dirs that exist as something other than a directory, naming the flag (a
 * build would otherwise fail deep inside with EEXIST or ENOTDIR). Missing dirs are fine.
 */
export function checkStorageDirs(dirs: { stackerDir: string; rootsDir: string; ociDir: string }) {
  const flags = [
    ['stacker-dir', dirs.stackerDir],
    ['roots-dir', dirs.rootsDir],
    ['oci-dir', dirs.ociDir],
  ] as const;
  for (const [flag, dir] of flags) {
    let stat: Stats | undefined;
    try {
      stat = statSync(dir);
    } catch {
      continue; // missing (created when needed) or unreadable (reported when used)
    }
    if (!stat.isDirectory()) {
      throw new StackerError(
        `parameter ${flag}="${dir}" exists but is not a directory.`,
        {},
        `remove or rename ${dir}, or give --${flag} a directory`,
      );
    }
  }
}

/** SOURCE_DATE_EPOCH as seconds, or undefined when unset. */
export function sourceDateEpoch(
  opts: Pick<BuildOptions, 'sourceDateEpoch' | 'env'>,
): number | undefined {
  if (opts.sourceDateEpoch !== undefined) return opts.sourceDateEpoch;
  const raw = (opts.env ?? process.env).SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new StackerError(
      `invalid SOURCE_DATE_EPOCH value "${raw}": not a whole number of seconds`,
      {},
      'set SOURCE_DATE_EPOCH to a Unix time such as 1700000000, or unset it',
    );
  }
  return Number(raw);
}

/** The gzip level to use: `level` once checked to be 1 to 9, or `fallback`. */
export function gzipLevelOf(level: number | undefined, fallback = DEFAULT_GZIP_LEVEL): number {
  if (level === undefined) return fallback;
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new StackerError(
      `invalid gzip level ${level}: it is a whole number from 1 to 9`,
      {},
      'use 1 for the fastest builds, 9 for the smallest layers, or leave it out for 6',
    );
  }
  return level;
}

/** zlib's default, and stacker's. */
export const DEFAULT_GZIP_LEVEL = 6;

/** Checks `--layer-type` values (see parseLayerTypes) before anything is read. */
export function checkLayerTypes(types: string[] | undefined): void {
  parseLayerTypes(types);
}

/**
 * Builds need root, real or of a user namespace (a rootless build: the CLI enters one itself,
 * see rootless/user-namespace.ts); say so before doing anything.
 */
export function checkPrivileges(): void {
  if (process.geteuid?.() !== 0) {
    throw new StackerError(
      'building needs root: run-steps use LXC containers on overlayfs mounts',
      { step: 'setup' },
      'build with the nx-stacker command, which builds rootless in a user namespace for ' +
        'users with /etc/subuid ranges, or as root',
    );
  }
}
