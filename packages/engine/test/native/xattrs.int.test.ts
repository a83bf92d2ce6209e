// readXattrs: every xattr of a tree, and the removal of overlayfs bookkeeping.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { StackerError } from '../../src/errors';
import { applyFsOps, type FsOp } from '../../src/native/fsops';
import { readXattrs } from '../../src/native/xattrs';
import { needsRoot } from './helpers';

const set = (path: string, name: string, value: string | Buffer): FsOp => ({
  op: 'setxattr',
  path,
  name,
  value: Buffer.isBuffer(value) ? value : Buffer.from(value),
});

describe('readXattrs', { skip: needsRoot }, () => {
  let base: string;
  let root: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'nxs-xattrs-'));
    root = join(base, 'root');
    mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(root, 'sub', 'deeper', 'file'), '');
    writeFileSync(join(root, 'plain'), '');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  test('lists every xattr of every entry, the root as "."', async () => {
    await applyFsOps(root, [
      set('.', 'user.root', 'r'),
      set('sub/deeper/file', 'user.a', Buffer.from([0, 255])),
      set('sub/deeper/file', 'trusted.b', ''),
    ]);
    const xattrs = await readXattrs(root, { stripOverlay: false });
    assert.deepEqual([...xattrs.keys()].sort(), ['.', 'sub/deeper/file']);
    assert.deepEqual(xattrs.get('.'), new Map([['user.root', Buffer.from('r')]]));
    const file = xattrs.get('sub/deeper/file');
    assert.deepEqual(file?.get('user.a'), Buffer.from([0, 255]));
    assert.deepEqual(file?.get('trusted.b'), Buffer.alloc(0));
  });

  test('does not follow symlinks', async () => {
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'target'), '');
    symlinkSync(elsewhere, join(root, 'to-elsewhere'));
    await applyFsOps(base, [set('elsewhere/target', 'user.far', 'x')]);
    const xattrs = await readXattrs(root, { stripOverlay: false });
    assert.deepEqual([...xattrs.keys()], []);
  });

  test('strip removes overlay bookkeeping from disk but keeps opaque markers', async () => {
    await applyFsOps(root, [
      set('sub', 'user.overlay.opaque', 'y'),
      set('sub', 'user.overlay.origin', 'o'),
      set('sub', 'trusted.overlay.impure', 'y'),
      set('sub/deeper/file', 'user.overlay.redirect', '/x'),
      set('sub/deeper/file', 'user.kept', 'k'),
    ]);
    const stripped = await readXattrs(root, { stripOverlay: true });
    assert.deepEqual(stripped.get('sub'), new Map([['user.overlay.opaque', Buffer.from('y')]]));
    assert.deepEqual(stripped.get('sub/deeper/file'), new Map([['user.kept', Buffer.from('k')]]));

    const after = await readXattrs(root, { stripOverlay: false });
    assert.deepEqual(after, stripped, 'the bookkeeping is gone from disk');
  });

  test('reads 20,000 files in well under a second', async () => {
    const script = 'mkdir -p d{0..99} && for d in d*; do touch "$d"/f{0..199}; done';
    execFileSync('bash', ['-c', script], { cwd: root });
    const ops: FsOp[] = [];
    for (let d = 0; d < 100; d++) {
      for (let f = 0; f < 200; f += 20) ops.push(set(`d${d}/f${f}`, 'user.overlay.origin', 'o'));
    }
    await applyFsOps(root, ops);
    const started = process.hrtime.bigint();
    const xattrs = await readXattrs(root, { stripOverlay: true });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(xattrs.size, 0);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test('a missing root is a StackerError naming it', async () => {
    const missing = join(base, 'missing');
    await assert.rejects(
      readXattrs(missing, { stripOverlay: false }),
      (err: unknown) => err instanceof StackerError && err.message.includes(missing),
    );
  });
});
