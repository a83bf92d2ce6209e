import { chmodSync, lstatSync, readdirSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Deletes a file, symlink or whole tree if it exists; symlinks are removed, never followed.
 * A builder that is not root cannot empty a read-only dir left by an earlier copy (a source
 * dir with mode 0555), so on a permission error the tree is made writable and removed again.
 */
export function removeEntry({ path }: { path: string }): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    makeDirsWritable({ path });
    rmSync(path, { recursive: true, force: true });
  }
}

/** `lstat` that answers undefined for a missing path instead of throwing. */
export function lstatIfExists({ path }: { path: string }): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// Gives the owner rwx on every dir of a tree so its entries can be deleted.
function makeDirsWritable({ path }: { path: string }): void {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return;
  chmodSync(path, (stat.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path)) makeDirsWritable({ path: join(path, name) });
}

function isPermissionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}
