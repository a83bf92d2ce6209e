import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime, recordedProcessAlive } from '../util/process';

/**
 * Marks a build as running in `<stacker dir>/builds/<pid>` (holding the process's start
 * time), so that a build only removes unreferenced blobs from the OCI dir when no other
 * build could be about to refer to them. Marks left by killed builds are removed on the way.
 */
export function registerBuild(stackerDir: string): { alone(): boolean; done(): void } {
  const dir = join(stackerDir, 'builds');
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (!markAlive(dir, name)) rmSync(join(dir, name), { force: true });
  }
  const mine = join(dir, String(process.pid));
  writeFileSync(mine, processStartTime(process.pid) ?? '');
  return {
    alone: () =>
      readdirSync(dir).every((name) => name === String(process.pid) || !markAlive(dir, name)),
    done: () => rmSync(mine, { force: true }),
  };
}

/** Pids of the live processes marked in `<stacker dir>/builds`, other than this one. */
export function otherActiveProcesses(stackerDir: string): number[] {
  const dir = join(stackerDir, 'builds');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => name !== String(process.pid) && markAlive(dir, name)).map(Number);
}

/** Whether the process a mark names still runs (a mark without a start time: its pid does). */
function markAlive(dir: string, name: string): boolean {
  let start: string;
  try {
    start = readFileSync(join(dir, name), 'utf8').trim();
  } catch {
    return false;
  }
  return recordedProcessAlive(Number(name), start || undefined);
}
