import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';
import { hashFileContent, hashText } from './hash';

/** One entry of a directory's canonical listing. */
export interface TreeEntry {
  /** Relative to the listed dir, `/`-separated; the dir itself is `.`. */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  /** Permission bits including setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  /** Files: hex sha256 of the content. */
  sha256?: string;
  /** Symlinks: the link target, as stored. */
  target?: string;
}

export interface TreeHash {
  /** Lower-case hex sha256 of the listing text; the value a directory import's `hash:` holds. */
  hex: string;
  /** Every entry, in listing order. */
  entries: TreeEntry[];
}

const LISTING_HEADER = 'nx-stacker tree v1';

/**
 * The canonical hash of a directory tree. stacker ignores `hash:` on directory imports; we
 * define one so directories can be pinned too. The listing is the text
 *
 *     nx-stacker tree v1\n
 *     <json path> <type> <mode> <detail>\n      (one line per entry, the dir itself included)
 *
 * with entries sorted by the UTF-8 bytes of their relative path, `<json path>` the path as a
 * JSON string, `<type>` one of `dir`/`file`/`symlink`, `<mode>` four octal digits of
 * `mode & 0o7777`, and `<detail>` the content's hex sha256 (files), the JSON-quoted link target
 * (symlinks) or `-` (dirs). Owners, times, xattrs and hard links are not part of it: owners and
 * times differ between checkouts of the same sources. Symlinks are never followed.
 * Throws a StackerError for entries that cannot be imported (fifos, sockets, devices).
 * Paths in `skip` (absolute, as `root` spells them) are left out with all they hold.
 */
export function hashTree({
  root,
  skip = new Set(),
}: {
  root: string;
  skip?: ReadonlySet<string>;
}): TreeHash {
  const entries: TreeEntry[] = [];
  walk({ root, rel: '.', stat: lstatSync(root), entries, skip });
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const lines = entries.map(listingLine);
  const hex = hashText(`${[LISTING_HEADER, ...lines].join('\n')}\n`);
  return { hex, entries };
}

// Adds the entry at `rel` and, for a dir, everything below it.
function walk({ root, rel, stat, entries, skip }: WalkArgs): void {
  const abs = rel === '.' ? root : join(root, rel);
  const mode = stat.mode & 0o7777;
  if (stat.isSymbolicLink()) {
    entries.push({ path: rel, type: 'symlink', mode, target: readlinkSync(abs) });
  } else if (stat.isFile()) {
    entries.push({ path: rel, type: 'file', mode, sha256: hashFileContent({ path: abs }) });
  } else if (stat.isDirectory()) {
    entries.push({ path: rel, type: 'dir', mode });
    for (const name of readdirSync(abs)) {
      const childRel = rel === '.' ? name : `${rel}/${name}`;
      if (skip.has(join(abs, name))) continue;
      walk({ root, rel: childRel, stat: lstatSync(join(abs, name)), entries, skip });
    }
  } else {
    throw unsupportedEntry({ path: abs, stat });
  }
}

interface WalkArgs {
  root: string;
  rel: string;
  stat: Stats;
  entries: TreeEntry[];
  skip: ReadonlySet<string>;
}

function listingLine(entry: TreeEntry): string {
  const mode = entry.mode.toString(8).padStart(4, '0');
  const detail =
    entry.type === 'file'
      ? entry.sha256
      : entry.type === 'symlink'
        ? JSON.stringify(entry.target)
        : '-';
  return `${JSON.stringify(entry.path)} ${entry.type} ${mode} ${detail}`;
}

/** The error for a fifo, socket or device found where an importable entry was expected. */
export function unsupportedEntry({ path, stat }: { path: string; stat: Stats }): StackerError {
  const kind = stat.isFIFO()
    ? 'a fifo'
    : stat.isSocket()
      ? 'a socket'
      : stat.isBlockDevice() || stat.isCharacterDevice()
        ? 'a device'
        : 'not a file';
  return new StackerError(
    `${path} is ${kind}; only files, directories and symlinks can be imported`,
    {},
    'remove it from the imported directory, or import the files around it one by one',
  );
}
