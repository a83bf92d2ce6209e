import {
  chmodSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  type Stats,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { syncFile, syncSymlink } from './copy-file';
import { lstatIfExists, removeEntry } from './remove';
import { unsupportedEntry } from './tree';
import type { CopyAttrs, CopyStats } from './types';

/**
 * Makes `target` an exact copy of `source`, a file, symlink or directory tree: entries the
 * source lacks are deleted, new and changed ones copied, identical ones left alone. Entries
 * are compared by type, size, bytes, link target, mode and owner, never by time. Files get
 * `attrs.fileMode` (when set) and every entry the owner of `attrs`; dirs keep the source's
 * permission bits. Counts what it did into `stats`.
 */
export function mirrorEntry({ source, target, attrs, stats }: MirrorArgs): void {
  const stat = lstatSync(source);
  if (stat.isSymbolicLink()) {
    if (syncSymlink({ source, stat, target, attrs })) stats.changed++;
  } else if (stat.isFile()) {
    if (syncFile({ source, stat, target, attrs })) stats.changed++;
  } else if (stat.isDirectory()) {
    mirrorDir({ source, stat, target, attrs, stats });
  } else {
    throw unsupportedEntry({ path: source, stat });
  }
}

/**
 * Mirrors each entry of the directory `source` into the existing directory `target` (the
 * trailing-slash "merge" form). Unlike `mirrorEntry`, other entries of `target` and its own
 * mode and owner are left alone: they belong to other imports or to the caller.
 */
export function mirrorChildren({ source, target, attrs, stats }: MirrorArgs): void {
  for (const name of readdirSync(source)) {
    mirrorEntry({ source: join(source, name), target: join(target, name), attrs, stats });
  }
}

interface MirrorArgs {
  source: string;
  target: string;
  attrs: CopyAttrs;
  stats: CopyStats;
}

function mirrorDir({ source, stat, target, attrs, stats }: MirrorArgs & { stat: Stats }): void {
  // Make the target a dir we can write into (a previous copy may be read-only).
  let before = lstatIfExists({ path: target });
  if (before && !before.isDirectory()) {
    removeEntry({ path: target });
    before = undefined;
  }
  if (!before) mkdirSync(target, { mode: 0o700 });
  else if ((before.mode & 0o700) !== 0o700) chmodSync(target, (before.mode & 0o7777) | 0o700);

  // Delete what the source no longer has, then copy the rest.
  const names = readdirSync(source);
  const wanted = new Set(names);
  for (const name of readdirSync(target)) {
    if (wanted.has(name)) continue;
    removeEntry({ path: join(target, name) });
    stats.removed++;
  }
  for (const name of names) {
    mirrorEntry({ source: join(source, name), target: join(target, name), attrs, stats });
  }

  // Mode and owner last, so a read-only source dir could still be filled.
  const mode = stat.mode & 0o7777;
  const sameOwner = before?.uid === attrs.uid && before?.gid === attrs.gid;
  if (!before || !sameOwner || (before.mode & 0o7777) !== mode) stats.changed++;
  // chown clears setgid on dirs for non-root callers, so the mode goes on after it.
  if (!sameOwner) lchownSync(target, attrs.uid, attrs.gid);
  chmodSync(target, mode);
  utimesSync(target, attrs.mtime ?? stat.atime, attrs.mtime ?? stat.mtime);
}
