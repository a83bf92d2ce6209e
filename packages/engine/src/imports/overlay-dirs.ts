/**
 * `overlay_dirs` (spec 3.4.4): host directories added to a layer as extra read-only layers.
 * Each is laid out as an image tree with its content at `dest` and then goes the way of a
 * `dest` import: its own OCI layer below the layer's diff, and a lower dir of the `run` step.
 */
import { chmodSync, lchownSync, mkdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { type Location, StackerError, wrapError } from '../errors';
import type { Logger } from '../log';
import type { Layer, OverlayDir } from '../parse/types';
import type { DestResolver } from './base-paths';
import { hashText } from './hash';
import { entryLocation } from './location';
import { mirrorChildren } from './mirror';
import { hashTree } from './tree';
import type { CopyAttrs, CopyStats, ImportTree } from './types';

const DIGEST_HEADER = 'nx-stacker overlay dir v1';

/** The cache digest of one overlay dir's content, with its source as written. */
export interface OverlayDirDigest {
  source: string;
  /**
   * `sha256:<hex>` of `nx-stacker overlay dir v1\ncontent <tree hash>\n`, the tree hash being
   * `hashTree`'s (paths, types, modes, bytes, link targets). Owners and times are not in it:
   * the copy belongs to the builder whatever the source's owner. `dest` is not either: it is
   * part of the layer's definition.
   */
  digest: string;
}

/**
 * The content digest of every overlay dir of `layer`, in order, or undefined when it has
 * none (so that the keys of the many layers without overlay dirs do not depend on this).
 * Fails with a StackerError located at the entry when a source is missing, is not a
 * directory, or holds something that cannot be copied (a fifo, a socket, a device).
 */
export function overlayDirDigests(layer: Layer): OverlayDirDigest[] | undefined {
  if (layer.overlayDirs.length === 0) return undefined;
  return layer.overlayDirs.map((dir) => {
    const where = entryLocation(layer, 'overlay_dirs', dir.pos);
    const root = checkedSource(dir, where);
    try {
      const tree = hashTree({ root });
      const digest = `sha256:${hashText(`${DIGEST_HEADER}\ncontent ${tree.hex}\n`)}`;
      return { source: dir.source, digest };
    } catch (err) {
      throw wrapError(err, `couldn't read overlay_dir ${dir.source}`, where);
    }
  });
}

/**
 * Lays out each overlay dir of `layer` as a fresh image tree `<copyDir>/overlay-<index>`
 * (`copyDir` must exist and hold no such dirs yet): the directories of `dest` are created
 * 0755, then the source's content is copied into the last one. Modes, symlinks (as links)
 * and bytes are kept; every entry belongs to the builder (root), as in stacker, never to the
 * source's owner, which is a developer's uid on the host. `dest` is first followed through
 * the base image's symlinks (see `baseDestResolver`). Packing the trees is the caller's job.
 */
export async function stageOverlayDirs(args: {
  layer: Layer;
  copyDir: string;
  resolveDest: DestResolver;
  log: Logger;
  /** mtime of every copied file and symlink (see CopyAttrs.mtime). */
  sourceDateEpoch?: number;
}): Promise<ImportTree[]> {
  const { layer, copyDir, resolveDest, log } = args;
  const attrs: CopyAttrs = {
    uid: process.geteuid?.() ?? 0,
    gid: process.getegid?.() ?? 0,
    mtime: args.sourceDateEpoch,
  };
  const trees: ImportTree[] = [];
  if (layer.overlayDirs.length > 0) mkdirSync(copyDir, { recursive: true });

  for (const [index, dir] of layer.overlayDirs.entries()) {
    const where = entryLocation(layer, 'overlay_dirs', dir.pos);
    const source = checkedSource(dir, where);
    const written = posix.resolve('/', dir.dest);
    const dest = await resolveDest(written, { followFinal: true });
    if (dest !== written) {
      log.info(`${layer.name}: overlay dest ${written} is a symlink in the base, using ${dest}`);
    }

    const root = join(copyDir, `overlay-${index}`);
    const stats: CopyStats = { changed: 0, removed: 0 };
    try {
      const target = makeDirs({ root, dest, attrs });
      mirrorChildren({ source, target, attrs, stats });
    } catch (err) {
      throw wrapError(err, `couldn't copy overlay_dir ${dir.source} to ${dest}`, where);
    }
    log.info(`copying overlay dir ${dir.source} to ${dest} (${stats.changed} entries)`);
    trees.push({ source: root });
  }
  return trees;
}

/**
 * The source's real path, once it is known to be a directory (a symlink to one counts, as in
 * stacker). Errors keep stacker's wording.
 */
function checkedSource(dir: OverlayDir, where: Location): string {
  let stat: Stats;
  try {
    stat = statSync(dir.source);
  } catch (err) {
    throw new StackerError(
      `Given overlay_dir ${dir.source} doesn't exist`,
      where,
      'create the directory, or fix the path (relative paths resolve against the stacker ' +
        "file's directory)",
      { cause: err },
    );
  }
  if (!stat.isDirectory()) {
    throw new StackerError(
      `Given overlay_dir ${dir.source} should be a directory`,
      where,
      "an overlay dir adds a directory's content to the image; to add a single file, use " +
        "an import with 'dest'",
    );
  }
  return realpathSync(dir.source);
}

/** Creates `root` and the dirs of `dest` below it, 0755 and owned as `attrs`; returns the last. */
function makeDirs({ root, dest, attrs }: { root: string; dest: string; attrs: CopyAttrs }) {
  let path = root;
  makeDir(path, attrs);
  for (const part of dest.split('/').filter((p) => p !== '')) {
    path = join(path, part);
    makeDir(path, attrs);
  }
  return path;
}

function makeDir(path: string, attrs: CopyAttrs): void {
  mkdirSync(path, { mode: 0o755 });
  lchownSync(path, attrs.uid, attrs.gid);
  chmodSync(path, 0o755);
}
