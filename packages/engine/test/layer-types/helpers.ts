import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { BuildOptions } from '../../src/index';
import {
  blobPath,
  buildIn,
  fromBusybox,
  indexEntries,
  readManifest,
  tempDir,
  writeFiles,
} from '../helpers';

export const VERITY_ANNOTATION = 'io.stackeroci.stacker.atomfs_verity_root_hash';

/**
 * Two layers: `base`, on the busybox image, deletes a file (a whiteout) and replaces a
 * directory of the base (an opaque directory); `xa`, from a tarball, holds a file with a user
 * xattr.
 */
export async function writeProject(dir: string): Promise<void> {
  const tree = join(dir, 'tree');
  writeFiles(tree, { 'srv/tagged': 'tagged\n' });
  execFileSync('setfattr', ['-n', 'user.color', '-v', 'blue', join(tree, 'srv/tagged')]);
  execFileSync('tar', [
    '--xattrs',
    '--xattrs-include=*',
    '--mtime=@1600000000',
    '-cf',
    join(dir, 'xa.tar'),
    '-C',
    tree,
    '.',
  ]);
  writeFiles(dir, {
    'stacker.yaml': `
base:
${await fromBusybox()}
  run: |
    rm /etc/passwd
    rm -rf /usr/sbin && mkdir /usr/sbin && echo new > /usr/sbin/only
    echo built > /built
xa:
  from:
    type: tar
    url: xa.tar
`,
  });
}

/** A temp dir holding writeProject's project, built with `opts` (its layer types). */
export async function builtProject(t: TestContext, opts: Partial<BuildOptions>) {
  const dir = tempDir(t);
  await writeProject(dir);
  return { dir, ...(await buildIn(dir, opts)) };
}

/** A temp dir with the inputs of writeProject's project in `from` (not its build). */
export function copyProject(t: TestContext, from: string): string {
  const dir = tempDir(t);
  execFileSync('cp', ['-a', join(from, 'stacker.yaml'), join(from, 'xa.tar'), dir]);
  return dir;
}

/** The config of `tag`, parsed. */
export function readConfig(
  oci: string,
  tag: string,
): Record<string, unknown> & {
  rootfs: { diff_ids: string[] };
} {
  return JSON.parse(readFileSync(blobPath(oci, readManifest(oci, tag).config.digest), 'utf8'));
}

/** Tag names of the layout, in index order. */
export function tagNames(oci: string): string[] {
  return indexEntries(oci).map((m) => m.tag ?? '');
}

/**
 * Where the verity data of a squashfs or erofs blob starts, found as stacker's atomfs finds
 * it: the filesystem size from its superblock, rounded up to 4 KiB.
 */
export function verityOffset(path: string, kind: 'squashfs' | 'erofs'): number {
  const head = Buffer.alloc(2048);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const size =
    kind === 'squashfs'
      ? Number(head.readBigUInt64LE(40))
      : head.readUInt32LE(1024 + 36) * 2 ** (head[1024 + 12] ?? 12);
  return Math.ceil(size / 4096) * 4096;
}

/** Runs `veritysetup verify` on a blob with its annotated root hash; throws if it fails. */
export function veritysetupVerify(path: string, kind: 'squashfs' | 'erofs', rootHash: string) {
  const offset = verityOffset(path, kind);
  return execFileSync('veritysetup', ['verify', `--hash-offset=${offset}`, path, path, rootHash], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
  });
}

/**
 * Mounts a squashfs or erofs blob read-only (loop), runs `fn` on the mount point, and umounts
 * it whatever happens.
 */
export function withMounted<T>(path: string, kind: 'squashfs' | 'erofs', fn: (dir: string) => T) {
  const mnt = mkdtempSync(join(tmpdir(), 'nx-stacker-mnt-'));
  mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-t', kind, '-o', 'ro,loop', path, mnt]);
  try {
    return fn(mnt);
  } finally {
    execFileSync('umount', [mnt]);
    rmdirSync(mnt);
  }
}

/** `getfattr -d -m - --absolute-names` of one path, as name -> value. */
export function xattrsOf(path: string): Record<string, string> {
  const out = execFileSync('getfattr', ['-d', '-m', '-', '--absolute-names', path], {
    encoding: 'utf8',
  });
  const attrs: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([^#=]+)="(.*)"$/.exec(line);
    if (m?.[1]) attrs[m[1]] = m[2] ?? '';
  }
  return attrs;
}
