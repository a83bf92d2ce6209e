/**
 * Rootless builds: a user without privileges runs the whole command inside a user namespace
 * where it is uid 0 (the runner's userns mode, maps written by newuidmap/newgidmap from
 * /etc/subuid and /etc/subgid). Inside, extraction with chown, whiteouts, overlay mounts with
 * userxattr and LXC work as for root, so both produce the same layers.
 *
 * The front end decides what to run there (the CLI re-executes itself); this module says
 * whether that is needed, finds the map, and runs the command.
 */
import { readFileSync, statSync } from 'node:fs';
import { constants as osConstants, userInfo } from 'node:os';
import { findOnPath } from '../check/rootless';
import { StackerError } from '../errors';
import { loadExeca } from '../native/execa';
import { type UserNamespaceMap, usernsCommand } from '../native/runner';
import { errnoCode } from '../util/fs';
import { namespaceMap, parseSubordinateIds, rangesOf } from './subordinate-ids';

export const SUBUID_FILE = '/etc/subuid';
export const SUBGID_FILE = '/etc/subgid';

/** Who runs nx-stacker on the host. */
export interface HostUser {
  uid: number;
  gid: number;
  /** undefined when the uid has no passwd entry (subordinate ranges may still name the uid). */
  name?: string;
}

/** The calling user, from the process's real ids and the passwd database. */
export function currentUser(): HostUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = undefined;
  }
  return { uid, gid, name };
}

/**
 * Whether this process must enter a user namespace before it can build: true for any user
 * but root. Inside the namespace the process is uid 0, so this is false there.
 */
export function needsUserNamespace(): boolean {
  const euid = process.geteuid?.();
  return euid !== undefined && euid !== 0;
}

/**
 * The user namespace map of `user` (default: the caller) from /etc/subuid and /etc/subgid
 * (see namespaceMap). Fails with a StackerError saying how to add ranges when either file
 * grants the user none; a malformed line fails with its text.
 */
export function userNamespaceMap(
  opts: { user?: HostUser; subuidFile?: string; subgidFile?: string } = {},
): UserNamespaceMap {
  const user = opts.user ?? currentUser();
  const files = { uid: opts.subuidFile ?? SUBUID_FILE, gid: opts.subgidFile ?? SUBGID_FILE };
  const map: UserNamespaceMap = { uid: [], gid: [] };

  for (const kind of ['uid', 'gid'] as const) {
    // Both files name the user (by name or uid), as newuidmap and newgidmap look them up.
    const ranges = parseSubordinateIds(readOptional(files[kind]), files[kind]);
    const mine = rangesOf(ranges, { name: user.name, id: user.uid });
    map[kind] = namespaceMap(user[kind], mine);
    if (map[kind].length === 0) throw noRanges(user, files[kind]);
  }
  return map;
}

/** The error for a user without subordinate ids, with the commands that add them. */
function noRanges(user: HostUser, file: string): StackerError {
  const who = user.name ?? `uid ${user.uid}`;
  const name = user.name ?? `${user.uid}`;
  return new StackerError(
    `no idmap and not root, can't run nx-stacker as ${who}: ${file} grants it no ` +
      'subordinate ids for a user namespace',
    { step: 'setup' },
    `ask an administrator to run "sudo nx-stacker unpriv-setup --username ${name} ` +
      `--uid ${user.uid} --gid ${user.gid}" (or usermod --add-subuids and --add-subgids), ` +
      'or build as root',
  );
}

/** A file's text, or '' when it does not exist (no ranges granted at all). */
function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return '';
    throw new StackerError(`couldn't read ${file}: ${(err as Error).message}`, { file });
  }
}

/**
 * The executable and arguments that run `command` as root of a new user namespace with `map`
 * (default: userNamespaceMap()), for callers that spawn it themselves with their own stdio
 * (runInUserNamespace does it with this process's). Exit statuses as runInUserNamespace's.
 */
export function commandInUserNamespace(
  command: string[],
  map: UserNamespaceMap = userNamespaceMap(),
): { file: string; args: string[] } {
  if (command.length === 0) throw new StackerError('no command to run in a user namespace');
  return usernsCommand(command, map);
}

/**
 * Runs `command` (executable and arguments) as root of a new user namespace with `map`
 * (default: userNamespaceMap()) and a private mount namespace, with this process's stdio,
 * and resolves to its exit status (128+N when it died of signal N). Aborting `signal` sends
 * it SIGTERM (through the runner), so it can clean up; a runner failure to create the
 * namespace (newuidmap refusing the ranges, say) is exit status 125, with the runner's
 * error line already printed on stderr. Fails with a StackerError, before starting anything,
 * when newuidmap or newgidmap is not on PATH.
 */
export async function runInUserNamespace(opts: {
  command: string[];
  map?: UserNamespaceMap;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}): Promise<number> {
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (findOnPath(tool)) continue;
    throw new StackerError(
      `${tool} not found in path: a build without root needs it to enter a user namespace`,
      { step: 'setup' },
      'install it (Debian: apt-get install uidmap), or build as root; nx-stacker check lists ' +
        'everything rootless builds need',
    );
  }
  const runner = commandInUserNamespace(opts.command, opts.map);
  const { execa } = await loadExeca();
  const subprocess = execa(runner.file, runner.args, {
    stdio: 'inherit',
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: opts.env === undefined,
    reject: false,
    // The command cleans up after SIGTERM (containers, snapshots); never cut that short.
    forceKillAfterDelay: false,
  });
  const forward = () => subprocess.kill('SIGTERM');
  opts.signal?.addEventListener('abort', forward, { once: true });
  try {
    const result = await subprocess;
    if (result.exitCode !== undefined) return result.exitCode;
    const signals = osConstants.signals as Record<string, number>;
    return 128 + (result.signal ? (signals[result.signal] ?? 0) : 0);
  } finally {
    opts.signal?.removeEventListener('abort', forward);
  }
}

/**
 * Refuses to mix root and rootless builds on one storage: every existing dir of `dirs` must
 * belong to `uid` (default: the caller's real uid). A rootless build cannot write into what
 * root extracted, and root would leave files the user cannot remove. Like stacker's
 * `previous run of stacker found with uid <n>`, with what to do about it.
 */
export function checkStorageOwner(dirs: string[], uid = process.getuid?.() ?? 0): void {
  for (const dir of dirs) {
    let owner: number;
    try {
      owner = statSync(dir).uid;
    } catch {
      continue;
    }
    if (owner === uid) continue;
    throw new StackerError(
      `previous run of nx-stacker found with uid ${owner}: ${dir} belongs to uid ${owner}, ` +
        `not to uid ${uid} who runs this one`,
      { step: 'setup' },
      'root and rootless builds cannot share storage: run as that user again, or use other ' +
        '--stacker-dir/--roots-dir (or remove these dirs with nx-stacker clean as that user)',
    );
  }
}
