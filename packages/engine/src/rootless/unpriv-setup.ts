/**
 * `unpriv-setup` (spec 7.10): what root does once so that a user can build rootless. It
 * grants the user subordinate ids and prepares storage dirs the user owns.
 */
import {
  existsSync,
  lchownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { checkOverlayAndLxc, checkWhiteouts } from '../check/probes';
import { findOnPath } from '../check/rootless';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { errnoCode } from '../util/fs';
import {
  nextRangeStart,
  parseSubordinateIds,
  rangesOf,
  SUBORDINATE_RANGE_SIZE,
} from './subordinate-ids';
import { SUBGID_FILE, SUBUID_FILE } from './user-namespace';

export interface UnprivSetupOptions {
  /** The user who will build: numeric ids and login name. */
  uid: number;
  gid: number;
  username: string;
  /** The stacker and roots dirs to create for that user; the stacker dir must not exist. */
  stackerDir: string;
  rootsDir: string;
  log: Logger;
  /** Default /etc/subuid and /etc/subgid. */
  subuidFile?: string;
  subgidFile?: string;
}

/**
 * Run as root. In order, as stacker does: refuses an existing stacker dir (`stacker dir <p>
 * already exists, aborting setup`); creates the stacker and roots dirs; warns when newuidmap
 * or newgidmap is missing; appends `<user>:<start>:65536` to /etc/subuid and /etc/subgid
 * when the user (by name or uid) has no range there (start: see nextRangeStart); checks that
 * overlay whiteouts, mounts and containers work in the roots dir; then gives both dirs and
 * everything in them to uid:gid. Existing ranges are left as they are. Does not create the
 * user, and does not lock the files as shadow's tools do: do not run it alongside useradd.
 */
export async function unprivSetup(opts: UnprivSetupOptions): Promise<void> {
  const { log } = opts;
  if (existsSync(opts.stackerDir)) {
    throw new StackerError(
      `stacker dir ${opts.stackerDir} already exists, aborting setup`,
      { step: 'unpriv-setup' },
      'remove it, or pick another --stacker-dir',
    );
  }
  // The roots dir is private, as builds make it: base images may hold setuid programs.
  mkdirSync(opts.stackerDir, { recursive: true });
  mkdirSync(opts.rootsDir, { recursive: true, mode: 0o700 });

  // The tools that write the maps.
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (!findOnPath(tool)) {
      log.warn(`${tool} not found in path: rootless builds need it (apt-get install uidmap)`);
    }
  }

  // Subordinate ids.
  const user = { name: opts.username, id: opts.uid };
  for (const file of [opts.subuidFile ?? SUBUID_FILE, opts.subgidFile ?? SUBGID_FILE]) {
    grantRange(file, user, log);
  }

  // What a build does in the roots dir (as root here; the user's builds do it rootless).
  for (const probe of [checkWhiteouts, checkOverlayAndLxc]) {
    const item = await probe(opts.rootsDir);
    if (!item.ok) throw new StackerError(item.message, { step: 'unpriv-setup' }, item.hint);
  }

  // Hand the dirs over.
  for (const dir of [opts.stackerDir, opts.rootsDir]) chownTree(dir, opts.uid, opts.gid);
  log.info(
    `${opts.username} (${opts.uid}:${opts.gid}) can build rootless with ` +
      `--stacker-dir ${opts.stackerDir} --roots-dir ${opts.rootsDir}`,
  );
}

/** Appends a range for `user` to `file` unless it has one; logs what it did. */
function grantRange(file: string, user: { name: string; id: number }, log: Logger): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw fileError(file, 'read', err);
  }
  const ranges = parseSubordinateIds(text, file);
  const own = rangesOf(ranges, user);
  if (own.length > 0) {
    const list = own.map((r) => `${r.start}:${r.count}`).join(', ');
    log.info(`${file} already grants ${user.name} ${list}; left as it is`);
    return;
  }

  const line = `${user.name}:${nextRangeStart(ranges, user.id)}:${SUBORDINATE_RANGE_SIZE}`;
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  try {
    writeFileSync(file, `${separator}${line}\n`, { flag: 'a', mode: 0o644 });
  } catch (err) {
    throw fileError(file, 'update', err);
  }
  log.info(`added ${line} to ${file}`);
}

function fileError(file: string, what: string, err: unknown): StackerError {
  return new StackerError(
    `couldn't ${what} ${file}: ${(err as Error).message}`,
    { file, step: 'unpriv-setup' },
    'run unpriv-setup as root (with sudo)',
    { cause: err },
  );
}

/** lchown of `dir` and everything below it (symlinks themselves, never their targets). */
function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, uid, gid);
    else lchownSync(path, uid, gid);
  }
}
