import { readFileSync } from 'node:fs';
import { otherActiveProcesses } from '../build/activity';
import { StackerError } from '../errors';

/**
 * Fails when another live process registered itself as using these dirs (a build, a
 * chroot or a grab: see build/activity.ts), naming it. stacker refuses the same way, through
 * its lock on the stacker dir.
 */
export function assertNoOtherUser(stackerDir: string, command: string): void {
  const pid = otherActiveProcesses(stackerDir)[0];
  if (pid === undefined) return;
  throw new StackerError(
    `couldn't ${command}: process ${pid} (${commandLine(pid)}) is using ${stackerDir}`,
    {},
    'wait for it to finish, or stop it',
  );
}

/** Mount points at or below `dir` in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  const decodeOctal = (p: string) =>
    p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => decodeOctal(line.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return 'unknown command';
  }
}
