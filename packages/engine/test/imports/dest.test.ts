import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stageImports } from '../../src/imports';
import { memoryLogger, silentLogger } from '../../src/log';
import type { Import } from '../../src/parse/types';
import { listTree, makeLayer, tempDir, writeTree } from './helpers';

// Stages the imports and lists the single image tree a `dest` import produced.
async function destTree(root: string, imp: Import): Promise<string[]> {
  const layer = makeLayer({ imports: [imp] });
  const staged = await stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger });
  assert.equal(staged.overlayDirs.length, 1);
  return listTree(staged.overlayDirs[0]!.source);
}

// A source dir `<root>/src/d` holding `a` and `sub/b`.
function sourceDir(root: string): string {
  writeTree(root, { 'src/d/a': 'A', 'src/d/sub/b': 'B' });
  return join(root, 'src/d');
}

const dTree = (at: string) => [
  `${at}/ dir 0755`,
  `${at}/a file 0644 A`,
  `${at}/sub/ dir 0755`,
  `${at}/sub/b file 0644 B`,
];

test('file + dest /x/ lands at /x/<basename>', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F' });

  const tree = await destTree(root, { path: join(root, 'src/f'), dest: '/usr/share/' });

  assert.deepEqual(tree, ['usr/ dir 0755', 'usr/share/ dir 0755', 'usr/share/f file 0644 F']);
});

test('file + dest /x/y is renamed to /x/y', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F' });

  const tree = await destTree(root, { path: join(root, 'src/f'), dest: '/etc/app.conf' });

  assert.deepEqual(tree, ['etc/ dir 0755', 'etc/app.conf file 0644 F']);
});

test('dir d + dest /x makes /x the directory', async (t) => {
  const root = tempDir(t);
  const d = sourceDir(root);

  assert.deepEqual(await destTree(root, { path: d, dest: '/opt/x' }), [
    'opt/ dir 0755',
    ...dTree('opt/x'),
  ]);
});

test('dir d/ + dest /x puts the contents of d in /x', async (t) => {
  const root = tempDir(t);
  const d = sourceDir(root);

  assert.deepEqual(await destTree(root, { path: `${d}/`, dest: '/opt/x' }), [
    'opt/ dir 0755',
    ...dTree('opt/x'),
  ]);
});

test('dir d/ + dest /x/ puts the contents of d in /x', async (t) => {
  const root = tempDir(t);
  const d = sourceDir(root);

  assert.deepEqual(await destTree(root, { path: `${d}/`, dest: '/opt/x/' }), [
    'opt/ dir 0755',
    ...dTree('opt/x'),
  ]);
});

test("dir d + dest /x/ lands at /x/d, without stacker's stray /x/x", async (t) => {
  const root = tempDir(t);
  const d = sourceDir(root);

  const tree = await destTree(root, { path: d, dest: '/opt/x/' });

  assert.deepEqual(tree, ['opt/ dir 0755', 'opt/x/ dir 0755', ...dTree('opt/x/d')]);
});

test('dir d/ + dest / spreads the contents of d over the image root', async (t) => {
  const root = tempDir(t);
  const d = sourceDir(root);

  assert.deepEqual(await destTree(root, { path: `${d}/`, dest: '/' }), [
    'a file 0644 A',
    'sub/ dir 0755',
    'sub/b file 0644 B',
  ]);
});

test('dest imports keep the file mode, `mode` included', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/tool': 'T', 'src/conf': 'C' }, 0o750);

  assert.deepEqual(await destTree(root, { path: join(root, 'src/tool'), dest: '/bin/' }), [
    'bin/ dir 0755',
    'bin/tool file 0750 T',
  ]);
  assert.deepEqual(
    await destTree(root, { path: join(root, 'src/conf'), dest: '/etc/', mode: 0o600 }),
    ['etc/ dir 0755', 'etc/conf file 0600 C'],
  );
});

test('a symlink with a dest stays a symlink', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/': '' });
  symlinkSync('/usr/bin/python3', join(root, 'src/python'));

  const tree = await destTree(root, { path: join(root, 'src/python'), dest: '/usr/local/bin/' });

  assert.deepEqual(tree, [
    'usr/ dir 0755',
    'usr/local/ dir 0755',
    'usr/local/bin/ dir 0755',
    'usr/local/bin/python link /usr/bin/python3',
  ]);
});

test('dest imports never reach the staging dir and each gets its own fresh tree', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/a': 'A', 'src/b': 'B', 'src/c': 'C' });
  const sd = join(root, 'sd');
  const imports = [
    { path: join(root, 'src/a'), dest: '/x/' },
    { path: join(root, 'src/b') },
    { path: join(root, 'src/c'), dest: '/y/' },
  ];
  writeTree(sd, { 'imports-copy/app/stale/junk': 'J' });

  const log = memoryLogger();
  const staged = await stageImports({ layer: makeLayer({ imports }), stackerDir: sd, log });

  assert.deepEqual(listTree(staged.dir), ['b file 0644 B']);
  assert.deepEqual(
    staged.overlayDirs.map((o) => o.source),
    [join(sd, 'imports-copy/app/0'), join(sd, 'imports-copy/app/2')],
  );
  assert.deepEqual(listTree(join(sd, 'imports-copy/app')), [
    '0/ dir 0755',
    '0/x/ dir 0755',
    '0/x/a file 0644 A',
    '2/ dir 0755',
    '2/y/ dir 0755',
    '2/y/c file 0644 C',
  ]);
  assert.equal(log.lines[0], `copying ${join(root, 'src/a')} to /x/`);
});

test('`..` in dest cannot escape the image tree', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F' });

  assert.deepEqual(await destTree(root, { path: join(root, 'src/f'), dest: '/../../etc/f' }), [
    'etc/ dir 0755',
    'etc/f file 0644 F',
  ]);
});
