// Test users for rootless builds, shared by the CLI's and the Nx plugin's suites: created by
// root with useradd, given subordinate ids or not, and removed with their /etc/subuid and
// /etc/subgid lines. Every function here must run as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  nextRangeStart,
  parseSubordinateIds,
  SUBORDINATE_RANGE_SIZE,
} from '../../engine/src/rootless/subordinate-ids';

/** A test user: its name and ids. */
export interface User {
  name: string;
  uid: number;
  gid: number;
}

const SUBORDINATE_FILES = ['/etc/subuid', '/etc/subgid'];

/** This checkout. */
const REPO_ROOT = join(__dirname, '../../..');

/**
 * Creates a user with a home and no subordinate ids (unpriv-setup or grantSubordinateIds
 * adds them). Name it `<prefix>-<pid>`, so that removeStaleUsers(prefix) can find it.
 */
export function createUser(name: string): User {
  execFileSync('useradd', ['-m', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }));
  return { name, uid: id('-u'), gid: id('-g') };
}

/**
 * Grants `user` one range of subordinate uids and one of gids, after every range either file
 * already has (as unpriv-setup would, without its storage dirs and checks).
 */
export function grantSubordinateIds(user: User): void {
  const ranges = SUBORDINATE_FILES.flatMap((file) => parseSubordinateIds(readOptional(file), file));
  const start = nextRangeStart(ranges, user.uid);
  const range = `${start}-${start + SUBORDINATE_RANGE_SIZE - 1}`;
  execFileSync('usermod', ['--add-subuids', range, '--add-subgids', range, user.name]);
}

/** Removes the user, its home and its lines in /etc/subuid and /etc/subgid. */
export function removeUser(name: string): void {
  spawnSync('userdel', ['-r', name], { stdio: 'ignore' });
  for (const file of SUBORDINATE_FILES) {
    const text = readOptional(file);
    if (text === '') continue;
    const kept = text.split('\n').filter((l) => !l.startsWith(`${name}:`));
    writeFileSync(file, kept.join('\n'));
  }
}

/** Users `<prefix>-<pid>` left by runs that were killed before cleaning up. */
export function removeStaleUsers(prefix: string): void {
  const pattern = new RegExp(`^(${prefix}-(\\d+)):`);
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const pid = pattern.exec(line);
    if (!pid || pid[2] === `${process.pid}`) continue;
    if (spawnSync('kill', ['-0', pid[2] as string]).status !== 0) removeUser(pid[1] as string);
  }
}

/**
 * A root of this checkout that `user` can read, with at least `parts` (paths relative to the
 * checkout) in it: the checkout itself when the user can read its package.json, otherwise
 * `<dir>/install`, a hard-linked copy of those parts (a checkout under /root, say, is closed
 * to others). `dir` must be reachable by the user.
 */
export function checkoutForUser(user: User, dir: string, parts: string[]): string {
  const probe = spawnSync('runuser', [
    '-u',
    user.name,
    '--',
    process.execPath,
    '-e',
    'require("node:fs").readFileSync(process.argv[1])',
    join(REPO_ROOT, 'package.json'),
  ]);
  if (probe.status === 0) return REPO_ROOT;
  const copy = join(dir, 'install');
  for (const part of parts) {
    mkdirSync(join(copy, part, '..'), { recursive: true });
    const linked = spawnSync('cp', ['-al', join(REPO_ROOT, part), join(copy, part)]);
    if (linked.status !== 0) execFileSync('cp', ['-a', join(REPO_ROOT, part), join(copy, part)]);
  }
  return copy;
}

/** A file's text, or '' when it does not exist. */
function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The stacker file both rootless suites build, as the user and as root, to compare digests:
 * two layers on busybox (`baseUrl`, an oci url) with an import of `hello.txt`, a chown to
 * 1000:1000, a deleted base file and a new file.
 */
export function rootlessStackerFile(baseUrl: string): string {
  return `
base:
  from:
    type: oci
    url: ${baseUrl}
  imports:
    - hello.txt
  run: |
    cp /stacker/imports/hello.txt /hello.txt
    echo owned > /owned
    chown 1000:1000 /owned
    rm /bin/vi
app:
  from:
    type: built
    tag: base
  run: echo app > /app
`;
}
