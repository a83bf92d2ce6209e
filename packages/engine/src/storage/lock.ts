import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime, recordedProcessAlive } from '../util/process';

/** A held lock; release it exactly once. */
export interface Lock {
  release(): void;
}

/**
 * Takes an exclusive lock named by `path`, shared by every process on this machine that
 * uses the same path, waiting while another live process holds it.
 *
 * The lock is a file created with O_EXCL holding the owner's pid and start time. A lock whose
 * owner is no longer alive (killed with SIGKILL, say) is taken over, so a crash never blocks
 * later builds; so is one whose pid now belongs to another process, which the start time
 * tells (flock(2) would need neither, but Node cannot call it). `onWait` is told once, with
 * the owner's pid, when we have to wait.
 */
export async function acquireLock(
  path: string,
  opts: { onWait?: (owner: number) => void; signal?: AbortSignal } = {},
): Promise<Lock> {
  let told = false;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    if (tryCreate(path)) return { release: () => rmSync(path, { force: true }) };

    const owner = readOwner(path);
    if (owner !== undefined && !ownerAlive(owner)) {
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

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    const start = processStartTime(process.pid);
    writeSync(fd, start ? `${process.pid} ${start}\n` : `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function readOwner(path: string): Owner | undefined {
  try {
    const [pidText, start] = readFileSync(path, 'utf8').trim().split(' ');
    const pid = Number.parseInt(pidText ?? '', 10);
    if (!Number.isFinite(pid) || pid <= 0) return undefined;
    return start ? { pid, start } : { pid };
  } catch {
    // Released between our create attempt and this read, or still being written.
    return undefined;
  }
}

/**
 * Removes a dead owner's lock. Renaming it aside first means two processes breaking the
 * same stale lock cannot both delete a fresh lock taken meanwhile by a third.
 */
function breakStaleLock(path: string, owner: Owner): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readOwner(aside);
  if (moved?.pid !== owner.pid || moved.start !== owner.start) {
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
