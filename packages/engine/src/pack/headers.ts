import { readlinkSync } from 'node:fs';
import { StackerError } from '../errors';
import {
  layerXattrName,
  OPAQUE_WHITEOUT,
  OVERLAY_OPAQUE_XATTR,
  OVERLAY_WHITEOUT_XATTR,
  WHITEOUT_PREFIX,
} from '../oci/layer-format';
import type { TarHeader } from '../oci/tar-codec';
import { compareUtf8, type TreeEntry } from './walk';

/** xattrs of a tree as `readXattrs` returns them: relpath ('.' = root) -> name -> value. */
export type TreeXattrs = ReadonlyMap<string, ReadonlyMap<string, Buffer>>;

/** State shared by the entries of one archive. */
export interface HeaderContext {
  xattrs: TreeXattrs;
  /** SOURCE_DATE_EPOCH: later mtimes are clamped to it. */
  sourceDateEpoch?: number;
  /** First archive name of each multiply-linked inode seen so far. */
  inodes: Map<string, string>;
  /** Told about files a tar cannot hold (sockets), which are left out. */
  onSkip?: (rel: string, why: string) => void;
}

/**
 * The tar entries for one file of an upper dir, in overlay-to-OCI terms: a whiteout device
 * becomes `.wh.<name>`, an opaque directory its own entry followed by `.wh..wh..opq`, a
 * second link to an inode a hard link entry; anything else one entry carrying its lstat
 * metadata and xattrs. Only a `file` entry with a non-zero size has data, to be read from
 * `entry.abs` by the caller.
 */
export function headersFor(entry: TreeEntry, ctx: HeaderContext): TarHeader[] {
  const { rel, stat } = entry;
  const slash = rel.lastIndexOf('/');
  const base = rel.slice(slash + 1);
  const xattrs = ctx.xattrs.get(rel === '' ? '.' : rel);

  if (isWhiteout(entry, xattrs)) {
    return [marker(`${rel.slice(0, slash + 1)}${WHITEOUT_PREFIX}${base}`)];
  }
  if (base.startsWith(WHITEOUT_PREFIX)) {
    throw new StackerError(
      `invalid path has whiteout prefix "${WHITEOUT_PREFIX}": /${rel}`,
      { step: 'pack' },
      `OCI layers cannot hold a file whose name starts with ${WHITEOUT_PREFIX}; rename it`,
    );
  }

  if (stat.isSocket()) {
    ctx.onSkip?.(rel, 'sockets cannot be stored in a tar layer');
    return [];
  }

  const header: TarHeader = {
    name: rel,
    type: 'file',
    mode: stat.mode & 0o7777,
    uid: stat.uid,
    gid: stat.gid,
    size: 0,
    mtime: clampedMtime(stat.mtimeMs, ctx.sourceDateEpoch),
    xattrs: layerXattrs(xattrs),
  };

  // A second name for an inode already archived is a hard link to the first name.
  if (entry.inode !== undefined) {
    const first = ctx.inodes.get(entry.inode);
    if (first !== undefined) return [{ ...header, type: 'link', linkname: first }];
    ctx.inodes.set(entry.inode, rel);
  }

  if (stat.isDirectory()) {
    const dir: TarHeader = { ...header, type: 'dir', name: rel === '' ? './' : `${rel}/` };
    const opaque = xattrs?.get(OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
    return opaque
      ? [dir, marker(rel === '' ? OPAQUE_WHITEOUT : `${rel}/${OPAQUE_WHITEOUT}`)]
      : [dir];
  }
  if (stat.isFile()) return [{ ...header, size: stat.size }];
  if (stat.isSymbolicLink()) return [{ ...header, type: 'symlink', linkname: readLink(entry) }];
  if (stat.isFIFO()) return [{ ...header, type: 'fifo' }];
  if (stat.isCharacterDevice() || stat.isBlockDevice()) {
    const type = stat.isCharacterDevice() ? 'char' : 'block';
    return [{ ...header, type, devmajor: major(stat.rdev), devminor: minor(stat.rdev) }];
  }
  throw new StackerError(`/${rel} has an unknown file type`, { step: 'pack' });
}

/** A char device 0:0, or (kernels creating whiteouts without mknod) a tagged empty file. */
function isWhiteout(entry: TreeEntry, xattrs: ReadonlyMap<string, Buffer> | undefined): boolean {
  const { stat } = entry;
  if (stat.isCharacterDevice()) return stat.rdev === 0;
  return stat.isFile() && stat.size === 0 && xattrs?.has(OVERLAY_WHITEOUT_XATTR) === true;
}

/** Whiteout entries carry nothing but their name (as umoci writes them). */
function marker(name: string): TarHeader {
  return { name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 };
}

/** Seconds, truncated; clamped to SOURCE_DATE_EPOCH when later (tar's --clamp-mtime). */
export function clampedMtime(mtimeMs: number, sourceDateEpoch: number | undefined): number {
  const seconds = Math.floor(mtimeMs / 1000);
  return sourceDateEpoch !== undefined && seconds > sourceDateEpoch ? sourceDateEpoch : seconds;
}

/** The xattrs a layer keeps, renamed, empty values dropped, sorted by name. */
function layerXattrs(xattrs: ReadonlyMap<string, Buffer> | undefined): [string, Buffer][] {
  const kept: [string, Buffer][] = [];
  for (const [diskName, value] of xattrs ?? []) {
    const name = layerXattrName(diskName);
    if (name !== undefined && value.length > 0) kept.push([name, value]);
  }
  return kept.sort((a, b) => compareUtf8(a[0], b[0]));
}

function readLink(entry: TreeEntry): string {
  try {
    return readlinkSync(entry.abs);
  } catch (err) {
    throw new StackerError(`couldn't read symlink /${entry.rel}: ${(err as Error).message}`, {
      step: 'pack',
    });
  }
}

/** Linux's encoding of device numbers in st_rdev (glibc's gnu_dev_major/minor). */
export function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}

export function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}
