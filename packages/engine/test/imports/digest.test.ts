import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importDigest, stageImports } from '../../src/imports';
import { silentLogger } from '../../src/log';
import type { Import } from '../../src/parse/types';
import { makeLayer, tempDir, writeTree } from './helpers';

const digest = async (imp: Import) => (await importDigest(imp)).digest;

test('stageImports reports a digest for every import, dest imports included', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'F', 'src/d/a': 'A' });
  const imports = [{ path: join(root, 'src/f') }, { path: join(root, 'src/d'), dest: '/opt/d' }];

  const staged = await stageImports({
    layer: makeLayer({ imports }),
    stackerDir: join(root, 'sd'),
    log: silentLogger,
  });

  assert.deepEqual(
    staged.digests.map(({ digest, ...rest }) => ({
      ...rest,
      digest: /^sha256:[0-9a-f]{64}$/.test(digest),
    })),
    [
      { path: join(root, 'src/f'), kind: 'file', digest: true },
      { path: join(root, 'src/d'), dest: '/opt/d', kind: 'dir', digest: true },
    ],
  );
  assert.deepEqual(staged.digests, [
    await importDigest(imports[0]!),
    await importDigest(imports[1]!),
  ]);
});

test('a file digest changes with its content and with its mode', async (t) => {
  const root = tempDir(t);
  writeTree(root, { f: 'one' });
  const imp = { path: join(root, 'f') };
  const seen = new Set([await digest(imp)]);

  writeFileSync(join(root, 'f'), 'two');
  seen.add(await digest(imp));
  chmodSync(join(root, 'f'), 0o755);
  seen.add(await digest(imp));
  seen.add(await digest({ ...imp, mode: 0o700 }));

  assert.equal(seen.size, 4);
});

test('a directory digest changes with a nested file, its mode, and uid/gid', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'd/sub/a': 'A' });
  const imp = { path: join(root, 'd'), dest: '/opt/d' };
  const seen = new Set([await digest(imp)]);

  writeFileSync(join(root, 'd/sub/a'), 'B');
  seen.add(await digest(imp));
  chmodSync(join(root, 'd/sub/a'), 0o600);
  seen.add(await digest(imp));
  seen.add(await digest({ ...imp, uid: 1000 }));
  seen.add(await digest({ ...imp, uid: 1000, gid: 1000 }));
  seen.add(await digest({ ...imp, mode: 0o644 }));

  assert.equal(seen.size, 6);
});

test('identical content imported from different places has the same digest', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'one/f': 'same', 'two/g': 'same', 'one/d/x': 'X', 'two/e/x': 'X' });

  assert.equal(
    await digest({ path: join(root, 'one/f') }),
    await digest({ path: join(root, 'two/g'), dest: '/g' }),
  );
  assert.equal(
    await digest({ path: join(root, 'one/d') }),
    await digest({ path: `${join(root, 'two/e')}/` }),
  );
});

test('a file and a directory never share a digest', async (t) => {
  const root = tempDir(t);
  writeTree(root, { f: '', 'd/': '' });

  assert.notEqual(await digest({ path: join(root, 'f') }), await digest({ path: join(root, 'd') }));
});
