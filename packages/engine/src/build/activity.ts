import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../util/process';

/**
 * Marks a build as running in `<stacker dir>/builds/<pid>`, so that a build only removes
 * unreferenced blobs from the OCI dir when no other build could be about to refer to them.
 * Marks left by killed builds are removed on the way.
 */
export function registerBuild(stackerDir: string): { alone(): boolean; done(): void } {
  const dir = join(stackerDir, 'builds');
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (!isProcessAlive(Number(name))) rmSync(join(dir, name), { force: true });
  }
  const mine = join(dir, String(process.pid));
  writeFileSync(mine, '');
  return {
    alone: () =>
      readdirSync(dir).every(
        (name) => name === String(process.pid) || !isProcessAlive(Number(name)),
      ),
    done: () => rmSync(mine, { force: true }),
  };
}
