import { StackerError } from '../errors';

/** PATH every build container gets first, as stacker does; a later PATH in `env` wins. */
export const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A host path bind-mounted into the container. */
export interface BindMount {
  /** Absolute host path; must exist (LXC fails the start otherwise). */
  source: string;
  /** Absolute path inside the container; created (as a dir or file) when missing. */
  dest: string;
  readOnly: boolean;
  /** Whether `source` is a directory: decides create=dir or create=file. */
  isDir: boolean;
}

/** What a build container needs beyond stacker's base config. */
export interface ContainerConfig {
  /** lxc.uts.name; stacker uses 'stacker'. */
  hostname: string;
  /** lxc.rootfs.mount: an existing host dir where LXC mounts the rootfs before pivoting. */
  rootfsMount: string;
  /** lxc.environment items, in order, after PATH; empty values are the caller's to drop. */
  env: [string, string][];
  binds: BindMount[];
  /** Raw `key = value` lines appended last, so they override anything above. */
  extra?: string[];
}

/**
 * The LXC config lines ("key = value") of a build container: stacker's base config (spec
 * §5.1), then PATH, the binds and the environment (§5.3), then `extra`. The runner adds
 * lxc.rootfs.path and the log itself. Checked with liblxc 5.0.2 on Linux 6.18 (hybrid
 * cgroups, no AppArmor):
 * - no console item is needed for the command's stdio to be the runner's: LXC only puts a
 *   pty in between when stdin/stdout/stderr are terminals (interactive runs), and
 *   lxc.console.path = none would then leave the shell without a controlling terminal;
 * - the AppArmor items are ignored where AppArmor is absent (as here); where it is present,
 *   'unconfined' needs no loaded profile and allow_incomplete lets LXC start on kernels
 *   without AppArmor mount mediation (stacker prefers lxc-container-default-cgns when
 *   loaded; pass it in `extra` to get that);
 * - no cgroup item is needed: the runner hides the host's cgroups from liblxc (see
 *   packages/runner/src/run.c), so lxc.cgroup* limits must not be used;
 * - Debian's common.conf is deliberately not included (its lxcfs hook costs 0.5 s a run);
 * - the same lines serve rootless builds, where the runner already is root of a user
 *   namespace: no lxc.idmap (LXC sees itself privileged there), and autodev's mknod falls back
 *   to bind-mounting the host's device nodes, which LXC does by itself.
 * Fails with a StackerError when a value cannot be written into an LXC config line.
 */
export function lxcConfigLines(opts: ContainerConfig): string[] {
  const lines = [
    item('lxc.uts.name', opts.hostname),
    item('lxc.rootfs.mount', opts.rootfsMount),
    'lxc.mount.auto = proc:mixed',
    'lxc.autodev = 1',
    'lxc.pty.max = 1024',
    'lxc.mount.entry = none dev/shm tmpfs defaults,create=dir 0 0',
    'lxc.net.0.type = none',
    'lxc.apparmor.profile = unconfined',
    'lxc.apparmor.allow_incomplete = 1',
    'lxc.mount.entry = /sys sys none rbind,create=dir, 0 0',
    'lxc.mount.entry = /etc/resolv.conf etc/resolv.conf none rbind,create=file, 0 0',
    `lxc.environment = PATH=${CONTAINER_PATH}`,
  ];

  for (const bind of opts.binds) lines.push(item('lxc.mount.entry', mountEntry(bind)));
  for (const [key, value] of opts.env) lines.push(item('lxc.environment', envValue(key, value)));
  for (const extra of opts.extra ?? []) lines.push(oneLine('extra config line', extra));
  return lines;
}

/**
 * The fstab-style mount entry of a bind, as stacker writes it:
 * `<source> <dest without leading /> none rbind,create=dir|file,<ro or nothing> 0 0`.
 * Spaces, tabs, newlines and backslashes in paths are octal-escaped as fstab wants.
 */
export function mountEntry(bind: BindMount): string {
  const dest = bind.dest.replace(/^\/+/, '');
  if (!bind.source.startsWith('/') || dest === '') {
    throw new StackerError(
      `bind ${bind.source} -> ${bind.dest}: source must be absolute and dest below /`,
      { directive: 'binds' },
    );
  }
  const create = bind.isDir ? 'dir' : 'file';
  const ro = bind.readOnly ? 'ro' : '';
  return `${fstabEscape(bind.source)} ${fstabEscape(dest)} none rbind,create=${create},${ro} 0 0`;
}

function fstabEscape(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function envValue(key: string, value: string): string {
  if (key === '' || key.includes('=')) {
    throw new StackerError(`environment variable name '${key}' is empty or contains '='`, {
      step: 'run',
    });
  }
  return `${key}=${value}`;
}

function item(key: string, value: string): string {
  return oneLine(key, `${key} = ${value}`);
}

/** An LXC config item must fit on one line; a newline would start a new item. */
function oneLine(what: string, line: string): string {
  if (/[\r\n\0]/.test(line)) {
    throw new StackerError(
      `${what}: ${JSON.stringify(line)} cannot be written into an LXC config (line break)`,
      { step: 'run' },
    );
  }
  return line;
}
