import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh temp dir, deleted when the test ends. */
export function tempDir(t: TestContext, prefix = 'nx-stacker-oci-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    // Best effort: a test that failed may leave read-only dirs or a mount behind.
    spawnSync('chmod', ['-R', 'u+rwX', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Runs a tool, failing the test with its stderr if it fails; returns stdout. */
export function run(cmd: string, args: string[], opts: { input?: Buffer } = {}): Buffer {
  try {
    return execFileSync(cmd, args, {
      input: opts.input,
      maxBuffer: 1 << 30,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    assert.fail(`${cmd} ${args.join(' ')} failed: ${e.stderr?.toString() || e.message}`);
  }
}

/** `sha256:<hex>` of a file or of bytes. */
export function sha256(data: Buffer | string): string {
  const bytes = typeof data === 'string' ? readFileSync(data) : data;
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Root-only steps: a failure in CI, a skip elsewhere. */
export function requireRoot(t: TestContext): boolean {
  if (process.geteuid?.() === 0) return true;
  if (process.env.CI === 'true') assert.fail('this test must run as root in CI');
  t.skip('needs root');
  return false;
}

/** Whether a tool is on PATH (umoci, skopeo); a test needing a missing one fails in CI. */
export function requireTool(t: TestContext, tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') assert.fail(`${tool} must be installed in CI`);
    t.skip(`${tool} is not installed`);
    return false;
  }
}

/** Writes files (`content`) and dirs (key ending in `/`) with a fixed mtime. */
export function writeTree(root: string, entries: Record<string, string>, mtime = 1_600_000_000) {
  for (const [rel, content] of Object.entries(entries)) {
    const path = join(root, rel);
    mkdirSync(rel.endsWith('/') ? path : dirname(path), { recursive: true });
    if (!rel.endsWith('/')) {
      writeFileSync(path, content);
      chmodSync(path, 0o644);
    }
    utimesSync(path, mtime, mtime);
  }
}

/**
 * Every entry below `root` as one line, sorted: path, type, mode, owner, mtime and the
 * content hash / link target / device numbers, plus xattrs (getfattr) when asked. Two trees
 * with the same lines are the same for an image.
 */
export function describeTree(root: string, opts: { xattrs?: boolean; mtimes?: boolean } = {}) {
  const lines: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const path = join(root, rel);
    const st = lstatSync(path);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    let what: string;
    if (st.isSymbolicLink()) what = `symlink -> ${readlinkSync(path)}`;
    else if (st.isDirectory()) what = 'dir';
    else if (st.isFile()) what = `file ${sha256(path).slice(7, 19)}`;
    else if (st.isFIFO()) what = 'fifo';
    else if (st.isCharacterDevice()) what = `char ${st.rdev}`;
    else if (st.isBlockDevice()) what = `block ${st.rdev}`;
    else what = 'other';
    if (!st.isDirectory() && st.nlink > 1) {
      const first = inodes.get(st.ino);
      if (first) what += ` (same inode as ${first})`;
      else inodes.set(st.ino, rel);
    }
    const time =
      opts.mtimes === false || st.isSymbolicLink() ? '' : ` t=${Math.floor(st.mtimeMs / 1000)}`;
    let line = `${rel || '.'} ${what} ${mode} ${st.uid}:${st.gid}${time}`;
    if (opts.xattrs) line += xattrText(path);
    lines.push(line);
    if (st.isDirectory())
      for (const name of readdirSync(path).sort()) walk(rel ? `${rel}/${name}` : name);
  };
  walk('');
  return lines;
}

function xattrText(path: string): string {
  const out = execFileSync(
    'getfattr',
    ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ).toString();
  const attrs = out
    .split('\n')
    .filter((l) => l.includes('='))
    .sort();
  return attrs.length > 0 ? ` {${attrs.join(' ')}}` : '';
}

/** Names of a tar (optionally gzipped) as GNU tar lists them, in archive order. */
export function tarNames(blob: string): string[] {
  return run('tar', ['-tf', blob]).toString().split('\n').filter(Boolean);
}

/** Headers of a tar (optionally gzipped) as tar-stream, an independent reader, sees them. */
export async function readHeaders(blob: string) {
  const { extract } = await import('tar-stream');
  const { createGunzip } = await import('node:zlib');
  const { createReadStream } = await import('node:fs');
  const input = createReadStream(blob);
  const gzipped = readFileSync(blob)
    .subarray(0, 2)
    .equals(Buffer.from([0x1f, 0x8b]));
  const reader = extract();
  (gzipped ? input.pipe(createGunzip()) : input).pipe(reader);
  const headers = [];
  for await (const entry of reader) {
    headers.push(entry.header);
    entry.resume();
  }
  return headers;
}

/**
 * xattrs of every entry under `root` as getfattr reports them, in the shape `readXattrs`
 * returns: relative path ('.' for the root) -> name -> value.
 */
export function getfattrMap(root: string): Map<string, Map<string, Buffer>> {
  const out = execFileSync(
    'getfattr',
    ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root],
    {
      maxBuffer: 1 << 28,
    },
  ).toString();
  const map = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = line.slice('# file: '.length);
      const rel = path === root ? '.' : path.slice(root.length + 1);
      current = new Map();
      map.set(rel, current);
    } else if (current && line.includes('=0x')) {
      const at = line.indexOf('=0x');
      current.set(line.slice(0, at), Buffer.from(line.slice(at + 3), 'hex'));
    }
  }
  return map;
}
