import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { StackerError, wrapError } from '../errors';
import type { Logger } from '../log';
import { findBuiltLayer } from '../snapshot/built-layer';
import { requireRoot, withTemporarySnapshot } from '../snapshot/temporary';
import { errnoCode } from '../util/fs';
import { type MergedDir, type UnionEntry, UnionView } from './union';

/** What `grab` needs. */
export interface GrabOptions {
  /** Absolute stacker, roots and OCI dirs. */
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
  /** `<layer>:<path>`, the path absolute in the layer's filesystem. */
  spec: string;
  /** Where the copy goes, under the path's basename (default: the current directory). */
  destDir?: string;
  log: Logger;
}

/**
 * `stacker grab <layer>:<path>`: copies a file or directory out of a built layer into
 * `destDir/<basename of path>`, replacing a file there or merging into a directory there.
 *
 * Unlike stacker, which starts a container on a snapshot and copies from inside it, the
 * layer's extracted OCI layers are read directly (see union.ts): no container, and no copy
 * tool needed in the image. Symlinks are followed inside the layer, the last one included
 * (so `grab app:/bin/sh` copies the file the link names, as `cp` would); symlinks inside a
 * grabbed directory are copied as links. Modes and mtimes are kept; ownership is the
 * caller's. Device nodes, fifos and sockets inside a directory are skipped with a warning.
 */
export async function grab(opts: GrabOptions): Promise<{ source: string; dest: string }> {
  const colon = opts.spec.indexOf(':');
  if (colon < 0) {
    throw new StackerError(
      `invalid grab argument: ${opts.spec}`,
      {},
      'write <layer>:<path>, for example app:/etc/os-release',
    );
  }
  const tag = opts.spec.slice(0, colon);
  const path = `/${opts.spec.slice(colon + 1).replace(/^\/+/, '')}`;
  const name = basename(path);
  if (name === '' || name === '..' || name === '.') {
    throw new StackerError(
      `invalid grab argument: ${opts.spec}: the path must name a file or directory below /`,
    );
  }

  const layer = await findBuiltLayer(opts, tag);
  requireRoot('grab');
  const dest = join(resolve(opts.destDir ?? process.cwd()), name);
  await withTemporarySnapshot({ ...opts, layer }, async (snapshot) => {
    const view = new UnionView(snapshot.lowers);
    const entry = await view.resolve(path, true).catch((err: unknown) => {
      throw wrapError(err, 'grab failed', { layer: tag, step: 'grab' });
    });
    await copyOut(view, entry, dest, opts.log);
  });
  opts.log.info(`copied ${tag}:${path} to ${dest}`);
  return { source: `${tag}:${path}`, dest };
}

/** Copies `entry` of the view to `dest` on the host. */
async function copyOut(
  view: UnionView,
  entry: UnionEntry,
  dest: string,
  log: Logger,
): Promise<void> {
  if (entry.kind === 'dir') return copyDir(view, entry, dest, log);
  if (isDirectory(dest)) {
    throw new StackerError(`${dest} exists and is a directory`, { step: 'grab' }, 'move it away');
  }
  rmSync(dest, { force: true });
  if (entry.kind === 'symlink') {
    symlinkSync(readlinkSync(entry.hostPath), dest);
  } else if (entry.kind === 'file') {
    copyFileSync(entry.hostPath, dest);
    chmodSync(dest, entry.stats.mode & 0o7777);
    utimesSync(dest, entry.stats.atime, entry.stats.mtime);
  } else {
    log.warn(`skipped /${entry.rel}: not a regular file, directory or symlink`);
  }
}

async function copyDir(view: UnionView, dir: MergedDir, dest: string, log: Logger) {
  if (!isDirectory(dest)) {
    rmSync(dest, { force: true });
    mkdirSync(dest);
  }
  for (const [name, entry] of await view.list(dir)) {
    await copyOut(view, entry, join(dest, name), log);
  }
  // The mode of the directory itself: that of its topmost copy.
  const top = lstatSync(view.hostPath(dir));
  chmodSync(dest, top.mode & 0o7777);
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
