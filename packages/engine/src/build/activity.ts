import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Marks a build as running in `<stacker dir>/builds/<pid>`, so that a build only removes
 * unreferenced blobs from the OCI dir when no other build could be about to refer to them.
 */
export function registerBuild(stackerDir: string): { alone(): boolean; done(): void } {
  const dir = join(stackerDir, 'builds');
  mkdirSync(dir, { recursive: true });
  const mine = join(dir, String(process.pid));
  writeFileSync(mine, '');
  return {
    alone: () =>
      readdirSync(dir).every((name) => name === String(process.pid) || !isAlive(Number(name))),
    done: () => rmSync(mine, { force: true }),
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
