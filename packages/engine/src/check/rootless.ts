/**
 * The prerequisites of rootless builds, for `nx-stacker check`: newuidmap and newgidmap
 * (setuid root or with file capabilities), subordinate id ranges for the user, and
 * unprivileged user namespaces enabled in the kernel. Like the other probes, each returns a
 * CheckItem with what to do about a problem, and never throws.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { readXattrs } from '../native/xattrs';
import {
  idCount,
  parseSubordinateIds,
  rangesOf,
  SUBORDINATE_RANGE_SIZE,
} from '../rootless/subordinate-ids';
import type { HostUser } from '../rootless/user-namespace';
import type { CheckItem } from './probes';

const ok = (message: string): CheckItem => ({ ok: true, message });
const problem = (message: string, hint: string): CheckItem => ({ ok: false, message, hint });

const INSTALL_UIDMAP =
  'install it: apt-get install uidmap (Debian, Ubuntu), shadow-utils elsewhere';

/** The first `name` on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/**
 * `newuidmap` or `newgidmap` is on PATH, executable, and setuid root or carries a
 * security.capability xattr (file capabilities): otherwise it cannot write a map.
 */
export async function checkIdMapTool(name: 'newuidmap' | 'newgidmap'): Promise<CheckItem> {
  const bin = findOnPath(name);
  if (!bin) return problem(`${name} not found in path`, INSTALL_UIDMAP);
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return problem(`${bin} is not executable`, `chmod 4755 ${bin} (as root)`);
  }

  const st = statSync(bin);
  if (st.uid === 0 && (st.mode & 0o4000) !== 0) return ok(`${bin} is setuid root`);
  let caps = false;
  try {
    const xattrs = (await readXattrs(bin, { stripOverlay: false })).get('.');
    caps = xattrs?.has('security.capability') === true;
  } catch {
    caps = false; // unreadable: the setuid test above is all we can say
  }
  if (caps) return ok(`${bin} has file capabilities`);
  return problem(
    `${bin} does not have either setuid-root or security caps`,
    `as root: chmod u+s ${bin}, or setcap cap_set${name === 'newuidmap' ? 'uid' : 'gid'}+ep ${bin}`,
  );
}

/** `file` (/etc/subuid or /etc/subgid) grants `user` subordinate ids, 65536 or more. */
export function checkSubordinateIds(user: HostUser, file: string): CheckItem {
  const who = user.name ?? `uid ${user.uid}`;
  const setup =
    `as root: nx-stacker unpriv-setup --username ${user.name ?? user.uid} ` +
    `--uid ${user.uid} --gid ${user.gid} (or usermod --add-subuids/--add-subgids)`;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return problem(
      `${file} does not exist or cannot be read: ${who} has no subordinate ids`,
      setup,
    );
  }

  let count: number;
  try {
    count = idCount(rangesOf(parseSubordinateIds(text, file), { name: user.name, id: user.uid }));
  } catch (err) {
    return problem((err as Error).message, `fix the line in ${file} (as root)`);
  }
  if (count === 0) return problem(`${file} grants ${who} no subordinate ids`, setup);
  if (count < SUBORDINATE_RANGE_SIZE) {
    return problem(
      `${file} grants ${who} only ${count} subordinate ids: images may use ids up to 65535`,
      `give ${who} a range of ${SUBORDINATE_RANGE_SIZE} in ${file} (as root)`,
    );
  }
  return ok(`${file} grants ${who} ${count} subordinate ids`);
}

/**
 * The kernel lets users create user namespaces: user.max_user_namespaces > 0, and where they
 * exist, Debian's kernel.unprivileged_userns_clone = 1 and Ubuntu's
 * kernel.apparmor_restrict_unprivileged_userns = 0.
 */
export function checkUnprivilegedUserns(procSys = '/proc/sys'): CheckItem {
  const read = (key: string) => {
    try {
      return readFileSync(join(procSys, ...key.split('.')), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const settings: [string, (v: string) => boolean, string][] = [
    ['user.max_user_namespaces', (v) => Number(v) > 0, '15000'],
    ['kernel.unprivileged_userns_clone', (v) => v === '1', '1'],
    ['kernel.apparmor_restrict_unprivileged_userns', (v) => v === '0', '0'],
  ];
  for (const [key, good, fix] of settings) {
    const value = read(key);
    if (value !== undefined && !good(value)) {
      return problem(
        `unprivileged user namespaces are disabled (${key} = ${value})`,
        `as root: sysctl -w ${key}=${fix} (and add it to /etc/sysctl.d to keep it)`,
      );
    }
  }
  return ok('unprivileged user namespaces are enabled');
}
