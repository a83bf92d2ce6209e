import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { type Location, wrapError } from '../errors';
import { hashFileContent } from './hash';
import { hashTree, type TreeHash, unsupportedEntry } from './tree';

/** A local import source, looked at once: its kind and the hashes every later step needs. */
export type ImportSource =
  | { kind: 'file'; path: string; stat: Stats; sha256: string }
  | { kind: 'symlink'; path: string; stat: Stats; target: string }
  | { kind: 'dir'; path: string; stat: Stats; tree: TreeHash };

/**
 * Inspects the local path an import copies from. Like stacker, the path itself is not
 * followed when it is a symlink (the link is imported as a link), except that a trailing `/`
 * makes the kernel resolve it (`link/` to a dir is that dir). Files and dirs are hashed here,
 * before anything is copied, so the hash check and the cache digest see the same bytes.
 * Errors carry `where`.
 */
export function inspectSource({ path, where }: { path: string; where: Location }): ImportSource {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (err) {
    throw wrapError(
      err,
      `couldn't stat import ${path}`,
      where,
      'check that the path exists; relative paths resolve against the stacker file directory',
    );
  }

  try {
    if (stat.isSymbolicLink()) return { kind: 'symlink', path, stat, target: readlinkSync(path) };
    if (stat.isFile()) return { kind: 'file', path, stat, sha256: hashFileContent({ path }) };
    if (stat.isDirectory()) return { kind: 'dir', path, stat, tree: hashTree({ root: path }) };
  } catch (err) {
    throw wrapError(err, `couldn't read import ${path}`, where);
  }
  throw unsupportedEntry({ path, stat }).at(where);
}

/**
 * The value the import's `hash:` is compared with: a file's content sha256, a dir's canonical
 * tree hash (see `hashTree`) or, for a symlink, the sha256 of the file it points to (stacker
 * hashes through the link too, although it copies the link itself).
 */
export function pinnableHash({ source, where }: { source: ImportSource; where: Location }): string {
  if (source.kind === 'file') return source.sha256;
  if (source.kind === 'dir') return source.tree.hex;
  try {
    return hashFileContent({ path: source.path });
  } catch (err) {
    throw wrapError(
      err,
      `couldn't hash import ${source.path} (a symlink to ${source.target})`,
      where,
      'a symlink import can only carry a hash when it points to a readable file',
    );
  }
}
