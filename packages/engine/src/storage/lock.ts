import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../util/process';

/** A held lock; release it exactly once. */
export interface Lock {
  release(): void;
}

/**
 * Takes an exclusive lock named by `path`, shared by every process on this machine that
 * uses the same path, waiting while another live process holds it.
 *
 * The lock is a file created with O_EXCL holding the owner's pid. A lock whose owner is no
 * longer alive (killed with SIGKILL, say) is taken over, so a crash never blocks later builds.
 * `onWait` is told once, with the owner's pid, when we have to wait.
 *
 * FIXME: a pid reused by an unrelated process after a crash keeps the lock held until that
 * process exits; flock(2) would not have this problem but Node cannot call it.
 */
export async function acquireLock(
  path: string,
  opts: { onWait?: (owner: number) => void; signal?: AbortSignal } = {},
): Promise<Lock> {
  let told = false;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    if (tryCreate(path)) return { release: () => rmSync(path, { force: true }) };

    const owner = readOwner(path);
    if (owner !== undefined && !isProcessAlive(owner)) {
      breakStaleLock(path, owner);
      continue;
    }
    if (!told && owner !== undefined) {
      opts.onWait?.(owner);
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

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    // Released between our create attempt and this read, or still being written.
    return undefined;
  }
}

/**
 * Removes a dead owner's lock. Renaming it aside first means two processes breaking the
 * same stale lock cannot both delete a fresh lock taken meanwhile by a third.
 */
function breakStaleLock(path: string, owner: number): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  if (readOwner(aside) === owner) {
    rmSync(aside, { force: true });
  } else {
    // Someone else's fresh lock: put it back if the name is still free.
    try {
      renameSync(aside, path);
    } catch {
      rmSync(aside, { force: true });
    }
  }
}
