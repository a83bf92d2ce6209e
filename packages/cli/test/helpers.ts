import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxLayout, runCli, writeFiles } from '../../engine/test/helpers';

/** The built CLI, as users run it. */
export const cliBin = join(__dirname, '../bin/nx-stacker.js');

/**
 * Why a root-only suite is skipped, or false to run it. In CI (always root) a missing
 * privilege fails the file instead of skipping it.
 */
export function rootSkip(): string | false {
  if (process.geteuid?.() === 0) return false;
  if (process.env.CI) throw new Error('integration tests must run as root in CI');
  return 'needs root (overlayfs and LXC)';
}

/** Runs the CLI in `cwd` with `input` on stdin (a pipe, not a terminal). */
export function cli(args: string[], cwd: string, input = '') {
  return runCli(args, cwd, {}, input);
}

/** Starts the CLI in the background; resolves once its stderr has printed `ready`. */
export function cliInBackground(
  args: string[],
  cwd: string,
  ready: RegExp,
): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
      if (ready.test(stderr)) resolve({ child, exited });
    });
    child.on('close', () => reject(new Error(`exited before ${ready}: ${stderr}`)));
  });
}

/**
 * A project of three layers on the busybox base, each changing what the one below has:
 * - base: imports hello.txt, a /data tree, a symlink in it, a relative symlink /datalink;
 * - tools (build_only): deletes /data/old and /bin/vi, recreates /data/old (opaque now);
 * - app: adds /app.
 * `build_env` GREETING is set on base, so a chroot into base sees it.
 */
export async function writeLayeredProject(dir: string): Promise<void> {
  writeFiles(dir, {
    'hello.txt': 'hello from the host\n',
    'stacker.yaml': `
base:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
  imports:
    - hello.txt
  build_env:
    GREETING: hi
  run: |
    cp /stacker/imports/hello.txt /hello.txt
    chmod 640 /hello.txt
    mkdir -p /data/old
    echo old > /data/old/file
    echo keep > /data/keep
    ln -s /hello.txt /data/link
    ln -s data /datalink
tools:
  from:
    type: built
    tag: base
  build_only: true
  run: |
    rm -rf /data/old /bin/vi
    mkdir /data/old
    echo new > /data/old/new
    echo tools > /tools
app:
  from:
    type: built
    tag: tools
  run: echo app > /app
`,
  });
}

/** Entries of the roots dir that are temporary snapshots. */
export function snapshotsIn(rootsDir: string): string[] {
  return readdirSync(rootsDir).filter((n) => n.startsWith('temp-snapshot-'));
}
