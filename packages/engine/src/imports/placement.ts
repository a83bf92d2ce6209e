import { posix } from 'node:path';
import type { Import } from '../parse/types';

/** Where an import's content goes inside its staging root. */
export interface Placement {
  /**
   * Path relative to the staging root, `/`-separated, of the entry the import becomes; the
   * empty string means the directory's contents are merged into the root itself.
   */
  rel: string;
}

/**
 * Applies stacker's rsync-like trailing-slash rules (spec 3.4.2). `name` is the basename the
 * import is known by (for a local path, its last component). Without `dest` the root is
 * `$SD/imports/<layer>`; with `dest` it is a fresh tree standing for the image's `/`:
 *
 * | source | dest     | result                                          |
 * |--------|----------|-------------------------------------------------|
 * | file f | (none)   | `f`                                             |
 * | dir d  | (none)   | `d`                                             |
 * | `d/`   | (none)   | contents of d merged into the root              |
 * | file f | `/x/y`   | `/x/y` (renamed)                                |
 * | file f | `/x/`    | `/x/f`                                          |
 * | dir d  | `/x`     | `/x` is d                                       |
 * | `d/`   | `/x`     | `/x` is d (its contents are in `/x`)            |
 * | `d/`   | `/x/`    | `/x` is d                                       |
 * | dir d  | `/x/`    | `/x/d` (stacker also creates an empty `/x/x`; we do not) |
 *
 * A symlink import places like a file. `..` in `dest` cannot climb above the root.
 */
export function placeImport({
  imp,
  name,
  isDir,
}: {
  imp: Import;
  name: string;
  isDir: boolean;
}): Placement {
  const pathIsDirForm = imp.path.endsWith('/');
  if (imp.dest === undefined) return { rel: isDir && pathIsDirForm ? '' : name };

  const destIsDirForm = imp.dest.endsWith('/');
  const dest = posix.normalize(`/${imp.dest}`);
  const intoDest = isDir ? destIsDirForm && !pathIsDirForm : destIsDirForm;
  const placed = intoDest ? posix.join(dest, name) : dest;
  return { rel: placed.replace(/^\/+/, '').replace(/\/+$/, '') };
}

/** The last component of a path or url, ignoring trailing slashes. */
export function importName({ path }: { path: string }): string {
  return posix.basename(path.replace(/\/+$/, ''));
}
