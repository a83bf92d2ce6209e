// applyFsOps: device nodes and xattrs Node cannot make, and the paths it refuses.
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { StackerError } from '../../src/errors';
import { applyFsOps, type FsOp } from '../../src/native/fsops';
import { readXattrs } from '../../src/native/xattrs';
import { needsRoot } from './helpers';

const whiteout = (path: string): FsOp => ({
  op: 'mknod',
  path,
  mode: 0,
  kind: 'c',
  major: 0,
  minor: 0,
});

describe('applyFsOps', { skip: needsRoot }, () => {
  let root: string;
  let outside: string;
  beforeEach(() => {
    const base = mkdtempSync(join(tmpdir(), 'nxs-fsops-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(join(root, 'dir'), { recursive: true });
    mkdirSync(outside);
    symlinkSync('../outside', join(root, 'escape'));
    writeFileSync(join(root, 'file'), 'data');
    symlinkSync('file', join(root, 'link'));
  });
  afterEach(() => rmSync(join(root, '..'), { recursive: true, force: true }));

  test('creates whiteouts as 0:0 character devices with mode 0', async () => {
    await applyFsOps(root, [whiteout('dir/gone'), whiteout('line\nbreak')]);
    for (const path of ['dir/gone', 'line\nbreak']) {
      const st = lstatSync(join(root, path));
      assert.ok(st.isCharacterDevice());
      assert.equal(st.rdev, 0);
      assert.equal(st.mode & 0o7777, 0);
    }
  });

  test('creates FIFOs and device nodes with the given mode, replacing a file', async () => {
    await applyFsOps(root, [
      { op: 'mknod', path: 'fifo', mode: 0o640, kind: 'p', major: 0, minor: 0 },
      { op: 'mknod', path: 'file', mode: 0o666, kind: 'c', major: 1, minor: 3 },
    ]);
    assert.ok(lstatSync(join(root, 'fifo')).isFIFO());
    assert.equal(lstatSync(join(root, 'fifo')).mode & 0o7777, 0o640);
    const node = lstatSync(join(root, 'file'));
    assert.ok(node.isCharacterDevice());
    assert.equal(node.rdev, (1 << 8) | 3);
    assert.equal(node.mode & 0o7777, 0o666);
  });

  test('sets xattrs on entries and on the root itself, binary values included', async () => {
    const binary = Buffer.from([0, 1, 0xfe, 0xff]);
    await applyFsOps(root, [
      { op: 'setxattr', path: 'dir', name: 'user.overlay.opaque', value: Buffer.from('y') },
      { op: 'setxattr', path: '.', name: 'trusted.test', value: binary },
      { op: 'setxattr', path: 'link', name: 'trusted.on-link', value: Buffer.from('l') },
    ]);
    const xattrs = await readXattrs(root, { stripOverlay: false });
    assert.deepEqual(xattrs.get('dir')?.get('user.overlay.opaque'), Buffer.from('y'));
    assert.deepEqual(xattrs.get('.')?.get('trusted.test'), binary);
    assert.deepEqual(xattrs.get('link')?.get('trusted.on-link'), Buffer.from('l'));
    assert.equal(xattrs.get('file'), undefined, 'the symlink was not followed');
  });

  test('skips user.* xattrs on symlinks, which Linux does not allow', async () => {
    await applyFsOps(root, [
      { op: 'setxattr', path: 'link', name: 'user.x', value: Buffer.from('1') },
    ]);
    const xattrs = await readXattrs(root, { stripOverlay: false });
    assert.equal(xattrs.get('link'), undefined);
    assert.equal(xattrs.get('file'), undefined);
  });

  for (const [path, reason] of [
    ['../x', /'\.\.' components are refused/],
    ['dir/../../x', /'\.\.' components are refused/],
    ['/abs', /absolute paths are refused/],
    ['escape/x', /parent is reached through a symlink/],
    ['dir', /a directory is in the way/],
  ] as const) {
    test(`refuses ${JSON.stringify(path)} and writes nothing`, async () => {
      const ops = [whiteout('dir/first'), whiteout(path)];
      await assert.rejects(applyFsOps(root, ops), (err: unknown) => {
        assert.ok(err instanceof StackerError);
        assert.match(err.message, reason);
        return true;
      });
      assert.equal(existsSync(join(root, 'dir', 'first')), false);
      assert.deepEqual(readdirSync(outside), []);
      assert.ok(lstatSync(join(root, 'dir')).isDirectory());
    });
  }

  test('does nothing for an empty list', async () => {
    await applyFsOps(join(root, 'does-not-exist'), []);
  });
});
