import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists (it may belong to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined when there is no such process. With the pid it names one process for good: a pid
 * the kernel hands out again belongs to a process with another start time.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that recorded itself as `pid` (with its start time `start`, when it
 * wrote one) still runs: a reused pid belongs to a process with another start time. A process
 * whose /proc entry we cannot read (another user's, under `hidepid`) but that exists counts as
 * running: better a lock waited for than one broken.
 */
export function recordedProcessAlive(pid: number, start: string | undefined): boolean {
  const now = start ? processStartTime(pid) : undefined;
  if (now === undefined) return isProcessAlive(pid);
  return now === start;
}

/**
 * This process as the names of its temporary files and dirs carry it: `<pid>.<start time>`,
 * so that a leftover of a killed process is recognised as such even once its pid is reused.
 */
export function ownerTag(): string {
  ownTag ??= `${process.pid}.${processStartTime(process.pid) ?? '0'}`;
  return ownTag;
}
let ownTag: string | undefined;

/** A regular expression source matching a tag of `ownerTag` or a bare pid (older names). */
export const OWNER_TAG = '\\d+(?:\\.\\d+)?';

/** Whether the process a temporary name's tag (`<pid>.<start>`, or a bare `<pid>`) names runs. */
export function ownerTagAlive(tag: string): boolean {
  const [pid, start] = tag.split('.');
  return recordedProcessAlive(Number(pid), start === '0' ? undefined : start);
}
