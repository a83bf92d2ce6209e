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
import { busyboxLayout, writeFiles } from '../helpers';

/** A layer descriptor as a manifest lists it. */
export interface LayerDesc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export const VERITY_ANNOTATION = 'io.stackeroci.stacker.atomfs_verity_root_hash';

/**
 * Two layers: `base`, on the busybox image, deletes a file (a whiteout) and replaces a
 * directory of the base (an opaque directory); `xa`, from a tarball, holds a file with a user
 * xattr.
 */
export async function writeProject(dir: string): Promise<void> {
  const busybox = await busyboxLayout();
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
  from:
    type: oci
    url: ${busybox}:busybox
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

/** The manifest of `tag` in the layout `oci`, read straight from the files. */
export function readManifest(
  oci: string,
  tag: string,
): { layers: LayerDesc[]; config: { digest: string }; annotations?: Record<string, string> } {
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  if (!entry) throw new Error(`no tag ${tag} in ${oci}`);
  return JSON.parse(readFileSync(blobPath(oci, entry.digest), 'utf8'));
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

export function blobPath(oci: string, digest: string): string {
  return join(oci, 'blobs', 'sha256', digest.replace('sha256:', ''));
}

/** Tag names of the layout, in index order. */
export function tagNames(oci: string): string[] {
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
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
