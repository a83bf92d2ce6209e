// Shared fixtures of the native runner's integration tests: a busybox rootfs as a lower dir,
// the other dirs of an overlay stack, and checks that nothing of a run outlives it.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ContainerConfig, lxcConfigLines } from '../../src/native/lxc-config';
import type { RunContainerOptions } from '../../src/native/runner';

/**
 * The `skip` option of tests that need root (namespaces, overlayfs, LXC). Outside CI they
 * skip with a reason; in CI (CI=true) they run and fail, as integration tests must.
 */
export const needsRoot: string | false =
  process.getuid?.() === 0 || process.env.CI === 'true'
    ? false
    : 'needs root for namespaces, overlayfs and LXC';

const BUSYBOX_APPLETS = ['sh', 'echo', 'cat', 'ls', 'sleep', 'hostname', 'env', 'touch', 'rm'];
const MORE_APPLETS = ['true', 'kill', 'mkdir', 'printf', 'test', 'stat', 'id', 'mount', 'wc'];

/** Directory with bin/busybox and applet symlinks: a rootfs tiny enough for every test. */
export function makeBusyboxDir(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const applet of [...BUSYBOX_APPLETS, ...MORE_APPLETS]) {
    symlinkSync('busybox', join(dir, 'bin', applet));
  }
  return dir;
}

/** The dirs of one container run, in a fresh temp dir. */
export interface Stack {
  base: string;
  lower: string;
  rootfs: string;
  upper: string;
  work: string;
  lxcpath: string;
  pivot: string;
  config: string;
}

/** A temp dir holding a busybox lower dir (with /etc/lowerfile) and empty stack dirs. */
export function makeStack(prefix = 'nxs-native-'): Stack {
  const base = mkdtempSync(join(tmpdir(), prefix));
  const stack: Stack = {
    base,
    lower: makeBusyboxDir(join(base, 'lower')),
    rootfs: join(base, 'rootfs'),
    upper: join(base, 'upper'),
    work: join(base, 'work'),
    lxcpath: join(base, 'lxc'),
    pivot: join(base, 'pivot'),
    config: join(base, 'lxc.conf'),
  };
  for (const dir of [stack.rootfs, stack.upper, stack.work, stack.lxcpath, stack.pivot]) {
    mkdirSync(dir, { recursive: true });
  }
  mkdirSync(join(stack.lower, 'etc'));
  mkdirSync(join(stack.lower, 'tmp'));
  writeFileSync(join(stack.lower, 'etc', 'lowerfile'), 'from the lower dir\n');
  return stack;
}

/** Writes the container config for `stack`; returns its path. */
export function writeConfig(
  stack: Stack,
  config: Partial<Omit<ContainerConfig, 'rootfsMount'>> = {},
): string {
  const lines = lxcConfigLines({
    hostname: config.hostname ?? 'stacker',
    rootfsMount: stack.pivot,
    env: config.env ?? [],
    binds: config.binds ?? [],
    extra: config.extra,
  });
  writeFileSync(stack.config, `${lines.join('\n')}\n`);
  return stack.config;
}

let counter = 0;

/** runContainer options for `stack` running `command`, with a unique container name. */
export function runOptions(stack: Stack, command: string[]): RunContainerOptions {
  counter += 1;
  return {
    name: `nxs-test-${process.pid}-${counter}`,
    lxcpath: stack.lxcpath,
    configFile: existsSync(stack.config) ? stack.config : writeConfig(stack),
    rootfs: stack.rootfs,
    upper: stack.upper,
    work: stack.work,
    lowers: [stack.lower],
    command,
  };
}

/** True when any process on the host (any mount namespace) has `path` mounted. */
export function mountedAnywhere(path: string): boolean {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(` ${path} `)) return true;
    } catch {
      // The process exited meanwhile.
    }
  }
  return false;
}

/** Pids of processes running exactly `sleep <duration>` (a duration unique to one test). */
export function sleepersFor(duration: string): string[] {
  const wanted = `sleep\0${duration}\0`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wanted;
      } catch {
        return false;
      }
    });
}

/** Waits until `check` holds, polling for up to `ms`; returns whether it did. */
export async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

/** Removes a stack's temp dir. */
export function removeStack(stack: Stack): void {
  rmSync(stack.base, { recursive: true, force: true });
}
