import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OWNER_TAG, ownerTag, ownerTagAlive } from './process';

/**
 * A temp name next to `path` for a file about to replace it: `.<name>.tmp-<owner>-<random>`,
 * so that `removeDeadTemps` knows a killed writer's leftover from a live writer's work.
 */
export function tempPathFor(path: string): string {
  const random = randomBytes(6).toString('hex');
  return join(dirname(path), `.${tempStem(basename(path))}.tmp-${ownerTag()}-${random}`);
}

/** The part of a file name its temp names start with: short enough for NAME_MAX with the rest. */
function tempStem(name: string): string {
  return name.slice(0, 128);
}

const TEMP_FILE = new RegExp(`^\\..*\\.tmp-(${OWNER_TAG})-[0-9a-f]+$`);

/**
 * Removes the temp files (or dirs) of `tempPathFor` in `dir` whose writer is gone (killed
 * between writing and renaming), only those for `target` when given, and returns their
 * names. A missing dir has none.
 */
export function removeDeadTemps(dir: string, target?: string): string[] {
  const prefix = target === undefined ? '.' : `.${tempStem(target)}.tmp-`;
  return removeDeadOwned(dir, TEMP_FILE, prefix);
}

/**
 * Removes the entries of `dir` whose name starts with `prefix` and matches `pattern`, whose
 * first group is the owner tag of the process that made them, when that process is gone.
 * Returns their names; a missing dir has none.
 */
export function removeDeadOwned(dir: string, pattern: RegExp, prefix = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = name.startsWith(prefix) && pattern.exec(name);
    if (!match || ownerTagAlive(match[1] as string)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the new one, never a
 * partial one: a temp file in the same directory, fsync, rename, fsync of the directory.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data, { mode });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(path));
}

/** Makes a rename in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Error code of a Node fs error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether a write failed because the filesystem (or the user's quota) is full. */
export function isDiskFull(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT';
}
