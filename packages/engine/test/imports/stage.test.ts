import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StackerError } from '../../src/errors';
import { stageImports } from '../../src/imports';
import { memoryLogger, silentLogger } from '../../src/log';
import type { Import } from '../../src/parse/types';
import { listTree, makeLayer, tempDir, writeTree } from './helpers';

// Stages `imports` for layer `app` with `$SD` = `<root>/sd`; returns the staging dir's tree.
async function stage(root: string, imports: Import[], log = silentLogger) {
  const staged = await stageImports({
    layer: makeLayer({ imports }),
    stackerDir: join(root, 'sd'),
    log,
  });
  return { staged, tree: listTree(staged.dir) };
}

test('a file import is copied into $SD/imports/<layer> under its basename', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/hello.txt': 'hi' });

  const { staged, tree } = await stage(root, [{ path: join(root, 'src/hello.txt') }]);

  assert.equal(staged.dir, join(root, 'sd/imports/app'));
  assert.deepEqual(tree, ['hello.txt file 0644 hi']);
  assert.deepEqual(staged.overlayDirs, []);
});

test('a layer without imports still gets an (empty) staging dir to bind-mount', async (t) => {
  const root = tempDir(t);
  const { staged, tree } = await stage(root, []);
  assert.ok(statSync(staged.dir).isDirectory());
  assert.deepEqual(tree, []);
});

test('a directory import mirrors the source, dropping files deleted from it', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/d/a': 'A', 'src/d/sub/b': 'B', 'src/d/old': 'O' });
  const imports = [{ path: join(root, 'src/d') }];
  await stage(root, imports);

  rmSync(join(root, 'src/d/old'));
  writeFileSync(join(root, 'src/d/a'), 'A2');
  writeTree(root, { 'src/d/sub/c': 'C' });
  const { tree } = await stage(root, imports);

  assert.deepEqual(tree, [
    'd/ dir 0755',
    'd/a file 0644 A2',
    'd/sub/ dir 0755',
    'd/sub/b file 0644 B',
    'd/sub/c file 0644 C',
  ]);
});

test('a directory import keeps each directory mode of the source', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/d/private/key': 'k' });
  chmodSync(join(root, 'src/d/private'), 0o700);

  const { tree } = await stage(root, [{ path: join(root, 'src/d') }]);

  assert.ok(tree.includes('d/private/ dir 0700'));
});

test('a directory that replaced a file of the same name is staged as a directory', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/x': 'file' });
  await stage(root, [{ path: join(root, 'src/x') }]);

  rmSync(join(root, 'src/x'));
  writeTree(root, { 'src/x/inner': 'i' });
  const { tree } = await stage(root, [{ path: join(root, 'src/x') }]);

  assert.deepEqual(tree, ['x/ dir 0755', 'x/inner file 0644 i']);
});

test('a directory import written with a trailing slash merges its contents', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/d/a': 'A', 'src/d/sub/b': 'B', 'src/f': 'F' });

  const { tree } = await stage(root, [
    { path: `${join(root, 'src/d')}/` },
    { path: join(root, 'src/f') },
  ]);

  assert.deepEqual(tree, ['a file 0644 A', 'f file 0644 F', 'sub/ dir 0755', 'sub/b file 0644 B']);
});

test('merged entries removed from the source disappear on the next build', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/d/a': 'A', 'src/d/b': 'B' });
  const imports = [{ path: `${join(root, 'src/d')}/` }];
  await stage(root, imports);

  rmSync(join(root, 'src/d/b'));
  const { tree } = await stage(root, imports);

  assert.deepEqual(tree, ['a file 0644 A']);
});

test('entries of imports no longer listed are removed, the old run script too', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/keep': 'K', 'src/gone': 'G', 'src/gone-dir/x': 'X' });
  const all = ['keep', 'gone', 'gone-dir'].map((n) => ({ path: join(root, 'src', n) }));
  const { staged } = await stage(root, all);
  writeFileSync(join(staged.dir, '.stacker-run.sh'), '#!/bin/sh\n');

  const { tree } = await stage(root, [{ path: join(root, 'src/keep') }]);

  assert.deepEqual(tree, ['keep file 0644 K']);
  assert.equal(existsSync(join(staged.dir, '.stacker-run.sh')), false);
});

test('an unchanged import logs "using cached copy", a changed one "copying"', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'one', 'src/d/a': 'A' });
  const f = join(root, 'src/f');
  const d = join(root, 'src/d');
  const imports = [{ path: f }, { path: d }];

  const first = memoryLogger();
  await stage(root, imports, first);
  assert.deepEqual(first.lines, [`copying ${f}`, `copying ${d} (2 changed, 0 removed)`]);

  const second = memoryLogger();
  await stage(root, imports, second);
  assert.deepEqual(second.lines, [`using cached copy of ${f}`, `using cached copy of ${d}`]);

  writeFileSync(f, 'two');
  writeTree(root, { 'src/d/b': 'B' });
  rmSync(join(d, 'a'));
  const third = memoryLogger();
  await stage(root, imports, third);
  assert.deepEqual(third.lines, [`copying ${f}`, `copying ${d} (1 changed, 1 removed)`]);
});

test('a file with the same size but different bytes is copied again', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'aaaa' });
  const imports = [{ path: join(root, 'src/f') }];
  await stage(root, imports);

  writeFileSync(join(root, 'src/f'), 'bbbb');
  const { tree } = await stage(root, imports);

  assert.deepEqual(tree, ['f file 0644 bbbb']);
});

test('a source mode change reaches an otherwise identical staged copy', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/tool': '#!/bin/sh\n' });
  const imports = [{ path: join(root, 'src/tool') }];
  await stage(root, imports);

  chmodSync(join(root, 'src/tool'), 0o755);
  const log = memoryLogger();
  const { tree } = await stage(root, imports, log);

  assert.deepEqual(tree, ['tool file 0755 #!/bin/sh\n']);
  assert.deepEqual(log.lines, [`copying ${join(root, 'src/tool')}`]);
});

test('`mode` is applied to the file as octal permission bits', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/a': 'a', 'src/b': 'b' });

  const { staged } = await stage(root, [
    { path: join(root, 'src/a'), mode: 0o755 },
    // A YAML `755` is decimal 755 = 0o1363; only its 0o777 bits apply.
    { path: join(root, 'src/b'), mode: 755 },
  ]);

  assert.equal(statSync(join(staged.dir, 'a')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(staged.dir, 'b')).mode & 0o7777, 0o363);
});

test('`mode` on a directory import applies to its files, not its directories', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/d/a': 'a', 'src/d/sub/b': 'b' });

  const { tree } = await stage(root, [{ path: join(root, 'src/d'), mode: 0o600 }]);

  assert.deepEqual(tree, [
    'd/ dir 0755',
    'd/a file 0600 a',
    'd/sub/ dir 0755',
    'd/sub/b file 0600 b',
  ]);
});

test('a symlink import is staged as the same symlink, not as its target', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/real': 'R' });
  symlinkSync('real', join(root, 'src/link'));

  const { staged, tree } = await stage(root, [{ path: join(root, 'src/link') }]);

  assert.deepEqual(tree, ['link link real']);
  assert.equal(readlinkSync(join(staged.dir, 'link')), 'real');
});

test('a missing source fails with the stacker file line and a hint', async (t) => {
  const root = tempDir(t);
  const path = join(root, 'nope.txt');
  const layer = makeLayer({ imports: [{ path, pos: { line: 7, column: 9 } }] });

  await assert.rejects(
    stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger }),
    (err) => {
      assert.ok(err instanceof StackerError);
      assert.match(err.message, new RegExp(`^couldn't stat import ${path}: ENOENT`));
      assert.equal(err.where.line, 7);
      assert.match(err.format(), /^\/work\/stacker\.yaml:7:9: layer 'app': imports: import /);
      assert.match(err.hint ?? '', /exists/);
      return true;
    },
  );
});

test('two different imports with the same basename are refused', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'one/f': '1', 'two/f': '2' });
  const layer = makeLayer({
    imports: [
      { path: join(root, 'one/f') },
      { path: join(root, 'two/f'), pos: { line: 4, column: 5 } },
    ],
  });

  await assert.rejects(
    stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger }),
    (err) => {
      assert.ok(err instanceof StackerError);
      assert.equal(
        err.message,
        `imports ${join(root, 'one/f')} and ${join(root, 'two/f')} would both be staged as 'f'`,
      );
      assert.equal(err.where.line, 4);
      return true;
    },
  );
});

test('an import named like the run script is refused', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/.stacker-run.sh': 'x' });
  const layer = makeLayer({ imports: [{ path: join(root, 'src/.stacker-run.sh') }] });

  await assert.rejects(
    stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger }),
    /would be staged as \.stacker-run\.sh/,
  );
});

test('unknown url schemes and stacker:// imports outside a build fail, located', async (t) => {
  const root = tempDir(t);
  for (const [path, message, hint] of [
    [
      'ftp://example.com/a.tar',
      /^unsupported url scheme ftp:/,
      /http\(s\):\/\/ urls or stacker:\/\//,
    ],
    ['stacker://base/etc/passwd', /can only be read during a build/, /sources/],
  ] as const) {
    const layer = makeLayer({ imports: [{ path, pos: { line: 3, column: 7 } }] });
    await assert.rejects(
      stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger }),
      (err) => {
        assert.ok(err instanceof StackerError);
        assert.match(err.message, message);
        assert.equal(err.where.line, 3);
        assert.match(err.hint ?? '', hint);
        return true;
      },
    );
  }
});

test('a large file is copied intact', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'src'));
  const big = Buffer.alloc(9 << 20, 7);
  big.write('end', big.length - 3);
  writeFileSync(join(root, 'src/big'), big);
  const imports = [{ path: join(root, 'src/big') }];

  const { staged } = await stage(root, imports);
  assert.ok(readFileSync(join(staged.dir, 'big')).equals(big));

  big.write('END', big.length - 3);
  writeFileSync(join(root, 'src/big'), big);
  const log = memoryLogger();
  await stage(root, imports, log);
  assert.ok(readFileSync(join(staged.dir, 'big')).equals(big));
  assert.deepEqual(log.lines, [`copying ${join(root, 'src/big')}`]);
});

test('a read-only source directory can be staged, updated and dropped again', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/ro/a': 'A', 'src/ro/b': 'B', 'src/f': 'F' });
  const ro = join(root, 'src/ro');
  chmodSync(ro, 0o555);
  await stage(root, [{ path: ro }]);

  chmodSync(ro, 0o755);
  rmSync(join(ro, 'b'));
  chmodSync(ro, 0o555);
  const { tree } = await stage(root, [{ path: ro }]);
  assert.deepEqual(tree, ['ro/ dir 0555', 'ro/a file 0644 A']);

  const after = await stage(root, [{ path: join(root, 'src/f') }]);
  assert.deepEqual(after.tree, ['f file 0644 F']);
});
