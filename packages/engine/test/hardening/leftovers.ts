/**
 * What a failed, killed or interrupted build may not leave behind, looked up the way an
 * operator would: temp files and dirs in the build's dirs, mounts in ANY process's mount
 * namespace (a runner that outlived its build would hold its own), and processes still
 * working in the build's dirs.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Names of work in progress: `<x>.tmp-<owner>-<random>`, `.<file>.tmp-<owner>-…`, blobs. */
const TEMP = /\.tmp-/;

/**
 * Temp files and dirs under `dir` (relative paths). Extracted layer trees (`overlay` dirs)
 * and upper dirs are not searched: their contents are a layer's files, named anything.
 */
export function tempLeftovers(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel));
    } catch {
      return;
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (TEMP.test(name)) found.push(path);
      else if (name !== 'overlay' && name !== 'rootfs' && !/^(imports|lxc)$/.test(name)) {
        walk(path);
      }
    }
  };
  walk('');
  return found.sort();
}

/** Mount points below `dir` in the mount namespace of any process on the machine. */
export function mountsAnywhere(dir: string): string[] {
  const found = new Set<string>();
  for (const pid of pids()) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    for (const line of info.split('\n')) {
      const point = line.split(' ')[4] ?? '';
      if (point.startsWith(dir)) found.add(point);
    }
  }
  return [...found].sort();
}

/** Processes (other than this one) whose command line or working dir is below `dir`. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {}
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`${pid}: ${cmdline.trim()}`);
    } catch {}
  }
  return found;
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Polls `check` until it returns an empty list or `ms` pass; returns the last result. */
export async function settled(check: () => string[], ms = 5000): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const found = check();
    if (found.length === 0 || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
