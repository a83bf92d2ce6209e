/**
 * The individual host checks of `nx-stacker check`. Each returns a CheckItem and never
 * throws: a probe that cannot run is itself a problem to report, with what to do about it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { isStackerError } from '../errors';
import { loadExeca } from '../native/execa';
import { applyFsOps } from '../native/fsops';
import { lxcConfigLines } from '../native/lxc-config';
import { runContainer, runnerExecutable, type UserNamespaceMap } from '../native/runner';

/** One line of the check's report: either fine, or a problem and what to do about it. */
export interface CheckItem {
  ok: boolean;
  /** What was checked and found (ok) or what is wrong (problem). */
  message: string;
  hint?: string;
  /** An ok item worth knowing about (shown as `note:` with its hint), not a problem. */
  note?: boolean;
}

const ok = (message: string): CheckItem => ({ ok: true, message });
const problem = (message: string, hint: string): CheckItem => ({ ok: false, message, hint });

/** The kernel must mount overlayfs with `userxattr`, as the runner does (Linux >= 5.11). */
export function checkKernel(kernelRelease = release()): CheckItem {
  const [major = 0, minor = 0] = kernelRelease.split(/[.-]/).map((n) => Number.parseInt(n, 10));
  if (major > 5 || (major === 5 && minor >= 11)) {
    return ok(`kernel ${kernelRelease} mounts overlayfs with userxattr (needs >= 5.11)`);
  }
  return problem(
    `kernel ${kernelRelease} is too old: overlayfs with userxattr needs Linux >= 5.11`,
    'upgrade the kernel (Debian 12 ships 6.1)',
  );
}

/** Root builds directly; anyone else builds rootless, in a user namespace (see rootless/). */
export function checkPrivileges(euid = process.geteuid?.()): CheckItem {
  if (euid === 0) return ok('running as root');
  return ok(`running as uid ${euid}: builds run rootless, in a user namespace`);
}

/** The liblxc version the runner is linked with, or undefined when it cannot say. */
export async function lxcVersion(): Promise<string | undefined> {
  return (await checkLxc()).version;
}

/** The liblxc the runner is linked with, through `nx-stacker-runner version`. */
export async function checkLxc(): Promise<{ item: CheckItem; version?: string }> {
  try {
    const { execa } = await loadExeca();
    const result = await execa(runnerExecutable(), ['version'], { reject: false });
    const version = /^liblxc (\S+)/.exec(result.stdout)?.[1];
    if (result.exitCode === 0 && version) return { item: ok(`liblxc ${version}`), version };
    return {
      item: problem(
        `the native runner could not report its liblxc version: ${result.stderr || result.stdout}`,
        'rebuild it against Debian\'s liblxc: apt-get install lxc lxc-dev, then "npm run build"',
      ),
    };
  } catch (err) {
    return { item: fromError(err, 'install lxc and lxc-dev, then run "npm run build"') };
  }
}

/**
 * A 0:0 character device (an overlay whiteout) can be created in the roots dir; with
 * `userns`, from inside that user namespace, as a rootless build does.
 */
export async function checkWhiteouts(
  rootsDir: string,
  userns?: UserNamespaceMap,
): Promise<CheckItem> {
  const dir = mkdtempSync(join(rootsDir, '.check-'));
  const whiteout = { op: 'mknod', path: 'wh', kind: 'c', major: 0, minor: 0, mode: 0 } as const;
  try {
    await applyFsOps(dir, [whiteout], { userns });
    return ok(`overlay whiteouts (0:0 character devices) can be created in ${rootsDir}`);
  } catch (err) {
    const detail = (err as Error).message;
    return problem(
      `can't create overlay whiteouts (use a kernel >= 5.8): ${detail}`,
      'use a kernel >= 5.8, and a roots dir on a local file system that allows device nodes',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Mounts an overlay of two lower dirs in the roots dir through the runner and starts an LXC
 * container on it, exactly as a build does. The command does not exist in that empty
 * rootfs, so LXC's init reports exit status 255: any status from the command means the
 * mount and the container start worked; only a runner failure is a problem. With `userns`,
 * all of it happens inside that user namespace, as in a rootless build.
 */
export async function checkOverlayAndLxc(
  rootsDir: string,
  userns?: UserNamespaceMap,
): Promise<CheckItem> {
  const dir = mkdtempSync(join(rootsDir, '.check-'));
  try {
    for (const d of ['a', 'b', 'upper', 'work', 'rootfs', 'pivot']) mkdirSync(join(dir, d));
    const config = join(dir, 'lxc.conf');
    const lines = lxcConfigLines({
      hostname: 'stacker',
      rootfsMount: join(dir, 'pivot'),
      env: [],
      binds: [],
    });
    writeFileSync(config, `${lines.join('\n')}\n`);
    await runContainer({
      name: `check-${process.pid}`,
      lxcpath: join(dir, 'lxc'),
      configFile: config,
      rootfs: join(dir, 'rootfs'),
      upper: join(dir, 'upper'),
      work: join(dir, 'work'),
      lowers: [join(dir, 'a'), join(dir, 'b')],
      command: ['/nx-stacker-check'],
      userns,
    });
    return ok(`overlayfs (userxattr) mounts in ${rootsDir} and liblxc starts containers on it`);
  } catch (err) {
    const detail = (err as Error).message;
    if (/mount overlay/.test(detail)) {
      return problem(
        `couldn't mount overlayfs in ${rootsDir}: ${detail}`,
        'use a kernel >= 5.11 and a roots dir on ext4, xfs, btrfs or tmpfs',
      );
    }
    return fromError(err, 'liblxc could not start a container: is the lxc package installed?');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fromError(err: unknown, hint: string): CheckItem {
  if (isStackerError(err)) return problem(err.message, err.hint ?? hint);
  return problem((err as Error).message ?? String(err), hint);
}
