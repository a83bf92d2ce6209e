import { chmodSync, mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { type Location, wrapError } from '../errors';
import type { Logger } from '../log';
import type { Import } from '../parse/types';
import type { Acquired } from './acquire';
import { copyMessage } from './copy-message';
import { mirrorChildren, mirrorEntry } from './mirror';
import { placeImport } from './placement';
import type { ImportSource } from './source';
import type { CopyAttrs, CopyStats, ImportTree } from './types';

/**
 * Lays out an import with `dest` as an image tree under `root`, which must not exist yet:
 * the content goes to `dest` (trailing-slash rules in `placeImport`) and the dirs leading
 * there are created 0755, owned by the builder. Unlike stacker, the import's `mode` and
 * `uid`/`gid` are kept here, so they reach the image. Packing the tree into an OCI layer is
 * the caller's job.
 */
export function stageIntoTree(args: StageIntoTreeArgs): ImportTree {
  const { imp, acquired, source, root, attrs, where, log } = args;
  const { rel } = placeImport({ imp, name: acquired.name, isDir: source.kind === 'dir' });

  const stats: CopyStats = { changed: 0, removed: 0 };
  try {
    makeDir({ path: root, recursive: true });
    if (rel === '') {
      mirrorChildren({ source: source.path, target: root, attrs, stats });
    } else {
      makeParents({ root, rel });
      mirrorEntry({ source: source.path, target: join(root, rel), attrs, stats });
    }
  } catch (err) {
    throw wrapError(err, `couldn't copy import ${imp.path} to ${imp.dest}`, where);
  }
  log.info(copyMessage({ imp, source, stats }));
  return { source: root };
}

interface StageIntoTreeArgs {
  imp: Import;
  acquired: Acquired;
  source: ImportSource;
  /** A fresh dir standing for the image's `/`. */
  root: string;
  attrs: CopyAttrs;
  where: Location;
  log: Logger;
}

// Creates every dir above `rel` inside the tree, 0755 whatever the umask.
function makeParents({ root, rel }: { root: string; rel: string }): void {
  let path = root;
  const parents = posix.dirname(rel);
  if (parents === '.') return;
  for (const part of parents.split('/')) {
    path = join(path, part);
    makeDir({ path, recursive: false });
  }
}

function makeDir({ path, recursive }: { path: string; recursive: boolean }): void {
  mkdirSync(path, { recursive, mode: 0o755 });
  chmodSync(path, 0o755);
}
