import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempPathFor } from '../util/fs';
import { processStartTime, recordedProcessAlive } from '../util/process';

/** A held lock; release it exactly once. */
export interface Lock {
  release(): void;
}

/**
 * Takes an exclusive lock named by `path`, shared by every process on this machine that
 * uses the same path, waiting while another live process holds it.
 *
 * The lock is a file holding the owner's pid and start time, which appears with its content:
 * written under a temp name, then linked to `path` (link(2) fails when the lock exists). A
 * lock whose owner is no longer alive (killed with SIGKILL, say) is taken over, so a crash
 * never blocks later builds; so is one whose pid now belongs to another process, which the
 * start time tells (flock(2) would need neither, but Node cannot call it), and one that names
 * no owner for a second (written by an older version, or damaged). `onWait` is told once,
 * with the owner's pid, when we have to wait.
 */
export async function acquireLock(
  path: string,
  opts: { onWait?: (owner: number) => void; signal?: AbortSignal } = {},
): Promise<Lock> {
  // Our lock's content, written once; each attempt links it to `path`.
  const start = processStartTime(process.pid);
  const mine = tempPathFor(path);
  writeFileSync(mine, start ? `${process.pid} ${start}\n` : `${process.pid}\n`, { mode: 0o644 });
  try {
    let told = false;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      if (tryLink(mine, path)) return { release: () => rmSync(path, { force: true }) };

      const owner = readOwner(path);
      if (owner === null || (owner !== undefined && !ownerAlive(owner))) {
        breakStaleLock(path, owner);
        continue;
      }
      if (!told && owner !== undefined) {
        opts.onWait?.(owner.pid);
        told = true;
      }
      opts.signal?.throwIfAborted();
      await sleep(delay);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { onWait?: (owner: number) => void } = {},
): Promise<T> {
  const lock = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Who holds a lock: a pid, and its start time unless an older version wrote the lock. */
interface Owner {
  pid: number;
  start?: string;
}

function ownerAlive(owner: Owner): boolean {
  return recordedProcessAlive(owner.pid, owner.start);
}

/** Links our written lock file to `path`; false when a lock is there already. */
function tryLink(mine: string, path: string): boolean {
  try {
    linkSync(mine, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** How long a lock may name no owner before it counts as stale. */
const UNOWNED_GRACE_MS = 1000;

/**
 * The lock's owner; undefined when there is no lock (released meanwhile) or it is too young
 * to judge, null when it has named no owner for longer than UNOWNED_GRACE_MS.
 */
function readOwner(path: string): Owner | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // released between our create attempt and this read
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (Number.isFinite(pid) && pid > 0) return start ? { pid, start } : { pid };
  try {
    return Date.now() - statSync(path).mtimeMs > UNOWNED_GRACE_MS ? null : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes a dead owner's lock (`null`: one naming no owner). Renaming it aside first means
 * two processes breaking the same stale lock cannot both delete a fresh lock taken meanwhile
 * by a third.
 */
function breakStaleLock(path: string, owner: Owner | null): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readOwner(aside);
  const same =
    owner === null
      ? moved === null || moved === undefined
      : moved?.pid === owner.pid && moved.start === owner.start;
  if (!same) {
    // Someone else's fresh lock: put it back if the name is still free (a link, unlike a
    // rename, never replaces a lock taken meanwhile).
    try {
      linkSync(aside, path);
    } catch {
      // Taken again meanwhile: that lock stands, this one was superseded.
    }
  }
  rmSync(aside, { force: true });
}
