import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { applyFsOps, type FsOp } from '../../packages/engine/src/native/fsops';
import { sh } from './timing';

/** What a run step changed, in the two forms the tools being compared need. */
export interface Change {
  /** The new and modified files as a plain tree (what `umoci repack` sees in a bundle). */
  files: string;
  /** The same change as an overlay upper dir: `files` plus whiteouts for `deleted`. */
  upper: string;
  /** Paths of the base (relative, no leading slash) the change deletes. */
  deleted: string[];
  /** Bytes of file data in `files`. */
  bytes: number;
  /** Regular files in `files`. */
  count: number;
}

/** Bump when the generated change would differ, so cached copies are regenerated. */
const VERSION = 'change v1: 20000 small files, 3 x 40 MB, every 25th usr/share file deleted';
/** All times in the generated trees, so every run packs the same bytes. */
const MTIME = 1_700_000_000;
/** 40 dirs x 10 subdirs x 50 files = 20,000 small files. */
const SHAPE = { packages: 40, modules: 10, files: 50 };
const LARGE = { count: 3, size: 40 << 20 };

/**
 * A synthetic change of about 200 MB on top of `rootfs`, made once under `dir` and reused
 * while the version stamp matches: 20,000 small files (256 B to 16 KiB, log-uniform), three
 * 40 MiB files, two modified files and about 300 deletions. File contents are slices of the
 * base's own files (binaries, text, compressed docs), so they compress like real layers do;
 * a seeded generator picks them, so every machine gets the same change.
 */
export async function syntheticChange(
  dir: string,
  rootfs: string,
  log: (m: string) => void,
): Promise<Change> {
  const files = join(dir, 'files');
  const upper = join(dir, 'upper');
  const stamp = join(dir, 'change.json');
  if (existsSync(stamp)) {
    const saved = JSON.parse(readFileSync(stamp, 'utf8')) as Change & { version: string };
    if (saved.version === VERSION && existsSync(upper)) return saved;
  }

  log('generating the synthetic change (about 200 MB)');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(files, { recursive: true });
  const corpus = readCorpus(rootfs, 160 << 20);
  const random = seeded(20240601);
  const stats = writeNewFiles(files, corpus, random);
  for (const path of ['etc/passwd', 'etc/group']) {
    copyParents(rootfs, files, path);
    const text = readFileSync(join(rootfs, path), 'utf8');
    writeFileSync(join(files, path), `${text}bench:x:1000:1000::/srv/app:/bin/sh\n`);
    stats.bytes += lstatSync(join(files, path)).size;
    stats.count++;
  }
  sh(`find ${files} -exec touch -h -d @${MTIME} {} +`);

  // The upper dir: the same files, plus a whiteout (0:0 char device) per deleted path.
  const deleted = pickDeletions(rootfs);
  sh(`cp -a ${files} ${upper}`);
  const ops: FsOp[] = deleted.map((path) => {
    copyParents(rootfs, upper, path);
    return { op: 'mknod', path, mode: 0, kind: 'c', major: 0, minor: 0 };
  });
  await applyFsOps(upper, ops);

  const change: Change = { files, upper, deleted, ...stats };
  writeFileSync(stamp, JSON.stringify({ version: VERSION, ...change }));
  return change;
}

/** Writes the small and the large files; returns their count and bytes. */
function writeNewFiles(root: string, corpus: Buffer, random: () => number) {
  let bytes = 0;
  let count = 0;
  const slice = (size: number) => {
    const at = Math.floor(random() * (corpus.length - size));
    return corpus.subarray(at, at + size);
  };
  for (let p = 0; p < SHAPE.packages; p++) {
    for (let m = 0; m < SHAPE.modules; m++) {
      const d = join(root, 'srv/app', `pkg-${pad(p, 3)}`, `mod-${m}`);
      mkdirSync(d, { recursive: true });
      for (let f = 0; f < SHAPE.files; f++) {
        const size = Math.round(256 * 64 ** random());
        writeFileSync(join(d, `file-${pad(f, 3)}.dat`), slice(size));
        bytes += size;
        count++;
      }
    }
  }
  mkdirSync(join(root, 'srv/data'), { recursive: true });
  for (let i = 0; i < LARGE.count; i++) {
    writeFileSync(join(root, 'srv/data', `blob-${i}.bin`), slice(LARGE.size));
    bytes += LARGE.size;
    count++;
  }
  return { bytes, count };
}

/** Every 25th regular file under usr/share of the base, in name order. */
function pickDeletions(rootfs: string): string[] {
  const all: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(rootfs, rel)).sort()) {
      const path = `${rel}/${name}`;
      const stat = lstatSync(join(rootfs, path));
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) all.push(path);
    }
  };
  walk('usr/share');
  return all.filter((_, i) => i % 25 === 0);
}

/**
 * Up to `limit` bytes of the base's regular files, concatenated in name order: the material
 * the change's contents are cut from.
 */
function readCorpus(rootfs: string, limit: number): Buffer {
  const out = Buffer.allocUnsafe(limit);
  let used = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (used >= limit) return;
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && stat.size > 0) used += readInto(path, out, used);
    }
  };
  walk(rootfs);
  return out.subarray(0, used);
}

function readInto(path: string, out: Buffer, at: number): number {
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    for (let n = -1; n !== 0 && at + got < out.length; got += n) {
      n = readSync(fd, out, at + got, out.length - at - got, null);
    }
    return got;
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates the parent dirs of `rel` under `root` with the owner, mode and mtime they have in
 * the base, as overlayfs does when it copies a directory up.
 */
function copyParents(base: string, root: string, rel: string): void {
  const parts = dirname(rel).split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const target = join(root, sub);
    const stat = lstatSync(join(base, sub));
    if (!existsSync(target)) mkdirSync(target, { mode: stat.mode & 0o7777 });
    utimesSync(target, stat.mtime, stat.mtime);
  }
}

/** A small seeded PRNG (mulberry32), uniform in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
