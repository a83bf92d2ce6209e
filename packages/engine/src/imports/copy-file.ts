import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fstatSync,
  lchownSync,
  lutimesSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  type Stats,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { lstatIfExists, removeEntry } from './remove';
import type { CopyAttrs } from './types';

/** Files up to this size are compared with one read each; larger ones chunk by chunk. */
const WHOLE_COMPARE_LIMIT = 4 << 20;
const CHUNK_SIZE = 1 << 20;

/**
 * Makes `target` a regular file with the bytes of `source`, the mode `attrs.fileMode` (or the
 * source's) and the owner of `attrs`. An existing target with the same size and bytes is kept
 * and only its mode/owner fixed (stacker's "using cached copy"); anything else at `target`,
 * a symlink included, is replaced. Large files are copied with copy_file_range or a reflink.
 * The copy gets `attrs.mtime` or else the source's mtime; times are compared only against
 * `attrs.mtime`. Returns whether it changed anything.
 */
export function syncFile({ source, stat, target, attrs }: SyncArgs): boolean {
  const mode = attrs.fileMode ?? stat.mode & 0o7777;
  const existing = lstatIfExists({ path: target });
  if (existing?.isFile() && existing.size === stat.size && stagedCopyMatches({ source, target })) {
    return fixAttrs({ target, existing, mode, attrs });
  }

  if (existing) removeEntry({ path: target });
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
  // chown clears setuid/setgid, so the mode goes on after it.
  lchownSync(target, attrs.uid, attrs.gid);
  chmodSync(target, mode);
  utimesSync(target, attrs.mtime ?? stat.atime, attrs.mtime ?? stat.mtime);
  return true;
}

/**
 * Makes `target` a symlink to the same target as `source` (copied as a link, as stacker
 * does: it is not followed, so a link to a host path may dangle in the container), owned as
 * `attrs` says. Returns whether it changed anything.
 */
export function syncSymlink({ source, stat, target, attrs }: SyncArgs): boolean {
  const link = readlinkSync(source);
  const existing = lstatIfExists({ path: target });
  if (existing?.isSymbolicLink() && readlinkSync(target) === link) {
    const timeOk = attrs.mtime === undefined || existing.mtimeMs === attrs.mtime * 1000;
    if (existing.uid === attrs.uid && existing.gid === attrs.gid && timeOk) return false;
    lchownSync(target, attrs.uid, attrs.gid);
    if (!timeOk) lutimesSync(target, attrs.mtime as number, attrs.mtime as number);
    return true;
  }

  if (existing) removeEntry({ path: target });
  symlinkSync(link, target);
  lchownSync(target, attrs.uid, attrs.gid);
  lutimesSync(target, attrs.mtime ?? stat.atime, attrs.mtime ?? stat.mtime);
  return true;
}

interface SyncArgs {
  source: string;
  /** `lstat` of `source`. */
  stat: Stats;
  target: string;
  attrs: CopyAttrs;
}

// Brings an existing file's owner and mode in line; true when something was wrong.
function fixAttrs({ target, existing, mode, attrs }: FixArgs): boolean {
  const ownerOk = existing.uid === attrs.uid && existing.gid === attrs.gid;
  const timeOk = attrs.mtime === undefined || existing.mtimeMs === attrs.mtime * 1000;
  if (ownerOk && timeOk && (existing.mode & 0o7777) === mode) return false;
  if (!ownerOk) lchownSync(target, attrs.uid, attrs.gid);
  chmodSync(target, mode);
  if (!timeOk) utimesSync(target, attrs.mtime as number, attrs.mtime as number);
  return true;
}

interface FixArgs {
  target: string;
  existing: Stats;
  mode: number;
  attrs: CopyAttrs;
}

// A staged copy the builder cannot read (a non-root build of a `mode: 0o200` file) is
// simply replaced.
function stagedCopyMatches({ source, target }: { source: string; target: string }): boolean {
  try {
    return sameBytes({ a: source, b: target });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES') return false;
    throw err;
  }
}

/** Whether two files hold the same bytes; meant for files already known to be equal in size. */
export function sameBytes({ a, b }: { a: string; b: string }): boolean {
  const fdA = openSync(a, 'r');
  const fdB = openSync(b, 'r');
  try {
    if (fstatSync(fdA).size <= WHOLE_COMPARE_LIMIT) {
      return readFileSync(fdA).equals(readFileSync(fdB));
    }
    const bufA = Buffer.allocUnsafe(CHUNK_SIZE);
    const bufB = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const n = readSync(fdA, bufA, 0, CHUNK_SIZE, null);
      const m = readSync(fdB, bufB, 0, CHUNK_SIZE, null);
      if (n !== m) return false;
      if (n === 0) return true;
      if (!bufA.subarray(0, n).equals(bufB.subarray(0, m))) return false;
    }
  } finally {
    closeSync(fdA);
    closeSync(fdB);
  }
}
