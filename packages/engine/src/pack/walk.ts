import { type BigIntStats, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';

/** One file of a tree being packed. */
export interface TreeEntry {
  /** Path relative to the root, `/`-separated, no trailing slash; '' for the root itself. */
  rel: string;
  abs: string;
  stat: Stats;
  /**
   * Device and inode, exact (from a bigint stat; a number loses precision above 2^53 and
   * would merge distinct inodes), for non-directories with several links; else undefined.
   */
  inode?: string;
}

/**
 * Every file under `root`, root first, depth first, siblings in byte order of their UTF-8
 * names: the order depends only on the names, never on the filesystem's readdir order, so
 * the same tree always gives the same archive. Symlinks are reported, not followed.
 */
export function* walkTree(root: string): Generator<TreeEntry> {
  yield entryFor(root, '');
  const stack: { abs: string; rel: string; names: string[]; next: number }[] = [];
  const open = (abs: string, rel: string) =>
    stack.push({ abs, rel, names: sortedNames(abs, rel), next: 0 });
  open(root, '');

  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const name = top.names[top.next++];
    if (name === undefined) {
      stack.pop();
      continue;
    }
    const rel = top.rel === '' ? name : `${top.rel}/${name}`;
    const entry = entryFor(join(top.abs, name), rel);
    yield entry;
    if (entry.stat.isDirectory()) open(entry.abs, rel);
  }
}

function entryFor(abs: string, rel: string): TreeEntry {
  let stat: Stats;
  try {
    stat = lstatSync(abs);
  } catch (err) {
    throw unreadable(rel, abs, err);
  }
  if (stat.isDirectory() || stat.nlink < 2) return { rel, abs, stat };
  const exact = lstatSync(abs, { bigint: true }) as BigIntStats;
  return { rel, abs, stat, inode: `${exact.dev}:${exact.ino}` };
}

function sortedNames(abs: string, rel: string): string[] {
  try {
    return readdirSync(abs).sort(compareUtf8);
  } catch (err) {
    throw unreadable(rel, abs, err);
  }
}

function unreadable(rel: string, abs: string, err: unknown): StackerError {
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === 'ENOENT' && rel !== ''
      ? 'the file vanished while packing, or its name is not valid UTF-8 (not supported)'
      : undefined;
  return new StackerError(
    `couldn't read ${rel === '' ? abs : `/${rel}`}: ${(err as Error).message}`,
    { step: 'pack' },
    hint,
    { cause: err },
  );
}

/**
 * Byte order of the UTF-8 encodings. Plain string comparison orders UTF-16 code units, which
 * differs only when a character above U+FFFF meets one in U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  if (/[\ud800-\udfff]/.test(a) || /[\ud800-\udfff]/.test(b)) {
    return Buffer.compare(Buffer.from(a), Buffer.from(b));
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
