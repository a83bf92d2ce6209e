import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** 3 MiB of deterministic bytes: bigger than the packer's small-file limit. */
export function bigContent(): Buffer {
  const blocks: Buffer[] = [];
  let seed = Buffer.from('nx-stacker');
  for (let i = 0; i < (3 << 20) / 32; i++) {
    seed = createHash('sha256').update(seed).digest();
    blocks.push(seed);
  }
  return Buffer.concat(blocks);
}

/**
 * An overlay upper dir as a `run` step leaves it: files, a setuid binary and a hard link to
 * it, a symlink, a FIFO, a big file, two kinds of whiteout, an opaque directory and user
 * xattrs (one of them overlayfs bookkeeping, one escaped). Everything is created by real
 * tools and syscalls; whiteout devices need no privilege since Linux 5.8.
 * `reverse` creates the entries in the opposite order, for order-independence tests.
 */
export function makeUpperDir(root: string, opts: { reverse?: boolean; mtime?: number } = {}) {
  const steps: (() => void)[] = [
    () => mkdirSync(join(root, 'etc')),
    () => writeFileSync(join(root, 'etc/hostname'), 'nx\n'),
    () => setfattr(join(root, 'etc/hostname'), 'user.mime', 'text/plain'),
    () => setfattr(join(root, 'etc/hostname'), 'user.overlay.origin', 'bookkeeping'),
    () => setfattr(join(root, 'etc/hostname'), 'user.overlay.overlay.kept', 'escaped'),
    () => mkdirSync(join(root, 'usr/bin'), { recursive: true }),
    () => writeFileSync(join(root, 'usr/bin/tool'), '#!/bin/sh\necho tool\n'),
    () => chmodSync(join(root, 'usr/bin/tool'), 0o4755),
    () => mkdirSync(join(root, 'usr/lib'), { recursive: true }),
    () => writeFileSync(join(root, 'usr/lib/big.bin'), bigContent()),
    () => symlinkSync('usr/lib', join(root, 'lib')),
    () => mkdirSync(join(root, 'run')),
    () => execFileSync('mkfifo', [join(root, 'run/fifo')]),
    () => execFileSync('mknod', [join(root, 'gone'), 'c', '0', '0']),
    () => writeFileSync(join(root, 'removed-file'), ''),
    () => setfattr(join(root, 'removed-file'), 'user.overlay.whiteout', 'y'),
    () => mkdirSync(join(root, 'opq')),
    () => setfattr(join(root, 'opq'), 'user.overlay.opaque', 'y'),
    () => writeFileSync(join(root, 'opq/kept'), 'kept\n'),
  ];
  // Dependencies (a dir before its files) make a strict reversal impossible: reverse within
  // the independent groups instead, top-level names in the opposite order.
  if (opts.reverse) {
    const groups = [steps.slice(16), steps.slice(13, 16), steps.slice(11, 13), steps.slice(0, 11)];
    for (const group of groups) for (const step of group) step();
  } else {
    for (const step of steps) step();
  }
  // The hard link comes last either way: it needs its target.
  linkSync(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool-link'));
  if (opts.mtime !== undefined) touchAll(root, opts.mtime);
}

export const UPPER_DIR_NAMES = [
  './',
  'etc/',
  'etc/hostname',
  '.wh.gone',
  'lib',
  'opq/',
  'opq/.wh..wh..opq',
  'opq/kept',
  '.wh.removed-file',
  'run/',
  'run/fifo',
  'usr/',
  'usr/bin/',
  'usr/bin/tool',
  'usr/bin/tool-link',
  'usr/lib/',
  'usr/lib/big.bin',
];

export function setfattr(path: string, name: string, value: string): void {
  execFileSync('setfattr', ['-h', '-n', name, '-v', value, path]);
}

/** Sets every mtime under `root` (symlinks themselves included) with `touch -h`. */
export function touchAll(root: string, seconds: number): void {
  const stamp = new Date(seconds * 1000).toISOString();
  execFileSync('find', [root, '-exec', 'touch', '-h', '-d', stamp, '{}', '+']);
  utimesSync(root, seconds, seconds);
}
