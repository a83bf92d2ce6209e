import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasProgram, sh } from './timing';

/** Where debootstrap fetches from: the first Debian archive apt is configured with. */
export interface Mirror {
  url: string;
  suite: string;
}

/**
 * The mirror and suite of the machine's apt configuration: the first `deb` source whose
 * suite has no `-updates`/`-security` suffix, in the deb822 `.sources` files or the
 * one-line `sources.list` format. Falls back to deb.debian.org and the release codename.
 */
export function aptMirror(): Mirror {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(readText('/etc/os-release'))?.[1];
  const fallback = { url: 'http://deb.debian.org/debian', suite: codename ?? 'bookworm' };
  const isMain = (suite: string) => !/-(updates|security|backports)$/.test(suite);

  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d')];
  for (const file of files) {
    const text = readText(file);
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) =>
          new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (!field('Types').includes('deb') || /^Enabled:\s*no/im.test(stanza)) continue;
        const suite = field('Suites').find(isMain);
        const url = field('URIs')[0];
        if (url && suite) return { url, suite };
      }
    } else if (file.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m?.[1] && m[2] && isMain(m[2])) return { url: m[1], suite: m[2] };
      }
    }
  }
  return fallback;
}

/**
 * A Debian minbase root filesystem in `dir`, made once with debootstrap and reused while
 * `<dir>.done` records the same mirror. apt's package lists and caches are removed, as
 * Debian's container images do, so the tree is what a base image layer holds.
 */
export function debianRootfs(dir: string, mirror: Mirror, log: (m: string) => void): string {
  const stamp = `${dir}.done`;
  const want = `${mirror.url} ${mirror.suite} minbase\n`;
  if (existsSync(stamp) && readText(stamp) === want && existsSync(dir)) return dir;
  if (!hasProgram('debootstrap')) {
    throw new Error('debootstrap is missing: run scripts/setup.sh (it installs it)');
  }

  log(`debootstrap --variant=minbase ${mirror.suite} from ${mirror.url} (about a minute)`);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(stamp, { force: true });
  sh(`debootstrap --variant=minbase ${mirror.suite} ${tmp} ${mirror.url}`);
  sh(
    `rm -rf ${tmp}/var/lib/apt/lists/* ${tmp}/var/cache/apt/*.bin ` +
      `${tmp}/var/cache/apt/archives/*.deb ${tmp}/var/log/bootstrap.log`,
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  writeFileSync(stamp, want);
  return dir;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}
