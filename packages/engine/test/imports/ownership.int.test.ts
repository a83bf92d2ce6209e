import assert from 'node:assert/strict';
import { chownSync, lstatSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { stageImports } from '../../src/imports';
import { memoryLogger, silentLogger } from '../../src/log';
import type { Import } from '../../src/parse/types';
import { makeLayer, tempDir, writeTree } from './helpers';

// Changing owners needs root. In CI a missing privilege is a failure, elsewhere a skip.
function requireRoot(t: TestContext): boolean {
  if (process.geteuid?.() === 0) return true;
  if (process.env.CI === 'true') assert.fail('ownership tests must run as root in CI');
  t.skip('needs root to change owners');
  return false;
}

// Every entry below `root` as `<path> <uid>:<gid>`, sorted.
function owners(root: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    const stat = lstatSync(join(root, rel));
    lines.push(`${rel} ${stat.uid}:${stat.gid}`);
    if (stat.isDirectory()) for (const n of readdirSync(join(root, rel))) walk(`${rel}/${n}`);
  };
  for (const name of readdirSync(root)) walk(name);
  return lines.sort();
}

async function stage(root: string, imports: Import[], log = silentLogger) {
  return stageImports({ layer: makeLayer({ imports }), stackerDir: join(root, 'sd'), log });
}

test('uid/gid apply to every entry of a staged import', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F', 'src/d/sub/a': 'A' });
  symlinkSync('sub/a', join(root, 'src/d/link'));

  const staged = await stage(root, [
    { path: join(root, 'src/f'), uid: 1000, gid: 1001 },
    { path: join(root, 'src/d'), uid: 2000, gid: 2001 },
  ]);

  assert.deepEqual(owners(staged.dir), [
    'd 2000:2001',
    'd/link 2000:2001',
    'd/sub 2000:2001',
    'd/sub/a 2000:2001',
    'f 1000:1001',
  ]);
});

test('without uid/gid the copy belongs to the builder, not to the source owner', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F' });
  chownSync(join(root, 'src/f'), 1234, 1234);

  const staged = await stage(root, [{ path: join(root, 'src/f') }]);

  assert.deepEqual(owners(staged.dir), ['f 0:0']);
});

test('dropping uid from an import gives the staged copy back to the builder', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F' });
  await stage(root, [{ path: join(root, 'src/f'), uid: 1000, gid: 1000 }]);

  const log = memoryLogger();
  const staged = await stage(root, [{ path: join(root, 'src/f') }], log);

  assert.deepEqual(owners(staged.dir), ['f 0:0']);
  assert.deepEqual(log.lines, [`copying ${join(root, 'src/f')}`]);
});

test('dest imports keep uid/gid; the dirs leading to dest belong to root', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  writeTree(root, { 'src/d/a': 'A' });

  const staged = await stage(root, [
    { path: join(root, 'src/d'), dest: '/opt/app/', uid: 5, gid: 6 },
  ]);

  assert.deepEqual(owners(staged.overlayDirs[0]!.source), [
    'opt 0:0',
    'opt/app 0:0',
    'opt/app/d 5:6',
    'opt/app/d/a 5:6',
  ]);
});

test('a setuid mode survives the chown that follows the copy', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  writeTree(root, { 'src/tool': 'T' }, 0o4755);

  const staged = await stage(root, [{ path: join(root, 'src/tool'), uid: 1000, gid: 1000 }]);

  assert.equal(lstatSync(join(staged.dir, 'tool')).mode & 0o7777, 0o4755);
});
