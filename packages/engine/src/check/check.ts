import { mkdirSync, realpathSync, statfsSync } from 'node:fs';
import { release, type, version } from 'node:os';
import type { UserNamespaceMap } from '../native/runner';
import {
  currentUser,
  SUBGID_FILE,
  SUBUID_FILE,
  userNamespaceMap,
} from '../rootless/user-namespace';
import {
  type CheckItem,
  checkKernel,
  checkLxc,
  checkOverlayAndLxc,
  checkPrivileges,
  checkWhiteouts,
} from './probes';
import { checkIdMapTool, checkSubordinateIds, checkUnprivilegedUserns } from './rootless';

export type { CheckItem } from './probes';

/** What `check` found about this host. */
export interface HostCheck {
  /** `<name> <release> <version>`, as stacker logs it. */
  kernel: string;
  rootsDir: string;
  /** File system of the roots dir (`ext4`, `NFS(6969)`, ...), or undefined if unknown. */
  fileSystem?: string;
  lxcVersion?: string;
  /** Every check in order; those with `ok: false` are problems, each with a hint. */
  items: CheckItem[];
}

/** statfs magic numbers of the file systems worth naming. */
const FILE_SYSTEMS = new Map<number, string>([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x794c7630, 'overlayfs'],
  [0x6969, 'NFS(6969)'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
  [0x65735546, 'fuse'],
  [0xff534d42, 'cifs'],
  [0x73717368, 'squashfs'],
]);

/**
 * `stacker check`: whether this host can build (spec 7.8). Unlike stacker, which stops at
 * the first problem, every check runs and every problem comes with what to do. Checks:
 * privileges, kernel version, for a user other than root the rootless prerequisites
 * (newuidmap, newgidmap, /etc/subuid and /etc/subgid ranges, unprivileged user namespaces),
 * the roots dir (created 0700 when missing; no symlinks in its path; not on NFS or
 * overlayfs), creating overlay whiteouts there, mounting an overlay there and starting an
 * LXC container on it (as a build does, so in a user namespace for a rootless user), and the
 * liblxc version. Without the rootless prerequisites the last three cannot be tried. For
 * root, missing rootless tools are only notes: root builds do not need them (stacker fails).
 */
export async function checkHost(opts: { rootsDir: string }): Promise<HostCheck> {
  const { rootsDir } = opts;
  const root = process.geteuid?.() === 0;
  const report: HostCheck = { kernel: `${type()} ${release()} ${version()}`, rootsDir, items: [] };
  const add = (item: CheckItem) => report.items.push(item);

  add(checkPrivileges());
  add(checkKernel());
  const rootless = await checkRootless(root);
  for (const item of rootless.items) add(item);

  // The roots dir itself.
  const usable = checkRootsDir(report);
  const lxc = await checkLxc();
  report.lxcVersion = lxc.version;
  add(lxc.item);

  // What a build does there.
  if (usable && (root || rootless.userns)) {
    add(await checkWhiteouts(rootsDir, rootless.userns));
    add(await checkOverlayAndLxc(rootsDir, rootless.userns));
  } else if (usable) {
    add({
      ok: false,
      message: 'whiteouts, overlay mounts and containers in the roots dir were not checked',
      hint: 'fix the rootless build problems above, then run nx-stacker check again',
    });
  }
  return report;
}

/**
 * The rootless prerequisites, and the user namespace map when they are all met (not root).
 * For root, only the host-wide ones, missing ones as notes.
 */
async function checkRootless(
  root: boolean,
): Promise<{ items: CheckItem[]; userns?: UserNamespaceMap }> {
  const host = [
    await checkIdMapTool('newuidmap'),
    await checkIdMapTool('newgidmap'),
    checkUnprivilegedUserns(),
  ];
  if (root) {
    return {
      items: host.map((i) =>
        i.ok
          ? i
          : {
              ok: true,
              note: true,
              message: `rootless builds by other users need this: ${i.message}`,
              hint: i.hint,
            },
      ),
    };
  }

  const user = currentUser();
  const items = [
    ...host,
    checkSubordinateIds(user, SUBUID_FILE),
    checkSubordinateIds(user, SUBGID_FILE),
  ];
  if (!items.every((i) => i.ok)) return { items };
  try {
    return { items, userns: userNamespaceMap({ user }) };
  } catch (err) {
    items.push({ ok: false, message: (err as Error).message, hint: 'see the lines above' });
    return { items };
  }
}

/** Creates the roots dir and checks where it is; false when nothing more can be done there. */
function checkRootsDir(report: HostCheck): boolean {
  const dir = report.rootsDir;
  const problem = (message: string, hint: string) => {
    report.items.push({ ok: false, message, hint });
    return false;
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return problem(
      `couldn't create the roots dir ${dir}: ${(err as Error).message}`,
      'pick another --roots-dir',
    );
  }

  const real = realpathSync(dir);
  if (real !== dir) {
    return problem(
      `roots dir (--roots-dir) path uses symbolic links, use "${real}" instead`,
      `pass --roots-dir ${real}`,
    );
  }

  const magic = statfsSync(dir).type >>> 0;
  report.fileSystem = FILE_SYSTEMS.get(magic) ?? `0x${magic.toString(16)}`;
  if (magic === 0x6969) {
    return problem(
      `roots dir (--roots-dir) path ${dir} is not supported on NFS.`,
      'put the roots dir on a local file system (--roots-dir)',
    );
  }
  if (magic === 0x794c7630) {
    return problem(
      `can't create overlay whiteout on underlying overlayfs in ${dir}`,
      'overlayfs cannot stack on overlayfs: put the roots dir on another file system ' +
        '(in a container, a volume)',
    );
  }
  report.items.push({ ok: true, message: `roots dir ${dir} is on ${report.fileSystem}` });
  return true;
}

/** The report as lines: facts first, then `ok:` and `problem:` lines with their hints. */
export function formatHostCheck(check: HostCheck): string[] {
  const lines = [`kernel: ${check.kernel}`];
  for (const item of check.items) {
    lines.push(`${item.note ? 'note' : item.ok ? 'ok' : 'problem'}: ${item.message}`);
    if ((!item.ok || item.note) && item.hint) lines.push(`  hint: ${item.hint}`);
  }
  return lines;
}
