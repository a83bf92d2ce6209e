import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StackerError } from '../../src/errors';
import { hashImport, hashTree, stageImports } from '../../src/imports';
import { silentLogger } from '../../src/log';
import type { Import } from '../../src/parse/types';
import { makeLayer, tempDir, writeTree } from './helpers';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function stage(root: string, imports: Import[]) {
  const layer = makeLayer({ imports, file: join(root, 'stacker.yaml') });
  return stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger });
}

// Asserts the hash-mismatch error of stacker, located at `line`.
function hashMismatch({ root, path, want, got, line }: MismatchArgs) {
  return (err: unknown) => {
    assert.ok(err instanceof StackerError);
    assert.equal(
      err.message,
      `The requested hash of ${path} import is different than the actual hash: ${want} != ${got}`,
    );
    assert.equal(err.where.line, line);
    assert.ok(err.format().startsWith(`${join(root, 'stacker.yaml')}:${line}:`));
    assert.match(
      err.hint ?? '',
      new RegExp(`^update the hash in ${join(root, 'stacker.yaml')}, or remove it`),
    );
    return true;
  };
}

interface MismatchArgs {
  root: string;
  path: string;
  want: string;
  got: string;
  line: number;
}

test('a file import whose content matches its hash is staged', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'content' });

  const staged = await stage(root, [{ path: join(root, 'src/f'), hash: sha256('content') }]);

  assert.ok(existsSync(join(staged.dir, 'f')));
});

test('a file import whose content differs from its hash fails before copying', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'content' });
  const path = join(root, 'src/f');
  const want = sha256('other');

  await assert.rejects(
    stage(root, [{ path, hash: want, pos: { line: 12, column: 11 } }]),
    hashMismatch({ root, path, want, got: sha256('content'), line: 12 }),
  );
  assert.equal(existsSync(join(root, 'sd/imports/app/f')), false);
});

test('the file hash is of the content only, whatever the file mode', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/f': 'content' });
  chmodSync(join(root, 'src/f'), 0o700);

  assert.equal(hashImport({ path: join(root, 'src/f') }), sha256('content'));
});

test('a directory can be pinned with the tree hash printed by a mismatch', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/d/a': 'A', 'src/d/sub/b': 'B' });
  const path = join(root, 'src/d');
  const wrong = sha256('guess');
  const actual = hashImport({ path });

  await assert.rejects(
    stage(root, [{ path, hash: wrong, pos: { line: 3, column: 5 } }]),
    hashMismatch({ root, path, want: wrong, got: actual, line: 3 }),
  );
  const staged = await stage(root, [{ path, hash: actual }]);
  assert.ok(existsSync(join(staged.dir, 'd/sub/b')));

  writeFileSync(join(path, 'sub/b'), 'changed');
  await assert.rejects(stage(root, [{ path, hash: actual }]), /different than the actual hash/);
});

test('the tree hash follows the documented canonical listing', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'd/b': 'B', 'd/a/x': 'X' });
  chmodSync(join(root, 'd/b'), 0o4755);
  symlinkSync('../b', join(root, 'd/a/link'));
  const mode = (rel: string) =>
    hashTree({ root: join(root, 'd') }).entries.find((e) => e.path === rel)?.mode;

  const listing = [
    'nx-stacker tree v1',
    '"." dir 0755 -',
    '"a" dir 0755 -',
    `"a/link" symlink ${mode('a/link')?.toString(8).padStart(4, '0')} "../b"`,
    `"a/x" file 0644 ${sha256('X')}`,
    `"b" file 4755 ${sha256('B')}`,
  ];

  assert.equal(hashTree({ root: join(root, 'd') }).hex, sha256(`${listing.join('\n')}\n`));
});

test('the tree hash changes with a file mode, a name or a link target', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'd/a': 'A' });
  symlinkSync('a', join(root, 'd/l'));
  const hash = () => hashTree({ root: join(root, 'd') }).hex;
  const seen = new Set([hash()]);

  chmodSync(join(root, 'd/a'), 0o600);
  seen.add(hash());
  writeTree(root, { 'd/b': '' });
  seen.add(hash());

  assert.equal(seen.size, 3);
});

test('a trailing slash does not change a directory hash', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'd/a': 'A' });

  assert.equal(hashImport({ path: `${join(root, 'd')}/` }), hashImport({ path: join(root, 'd') }));
});

test('a symlink import is hashed through the link, as stacker does', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'src/real': 'R' });
  symlinkSync('real', join(root, 'src/link'));

  const staged = await stage(root, [{ path: join(root, 'src/link'), hash: sha256('R') }]);

  assert.equal(readlinkSync(join(staged.dir, 'link')), 'real');
});

test('a remembered file digest never outlives the bytes it was computed from', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'settled.conf');
  writeFileSync(file, 'value=1\n');
  // Only files not changed in the last two seconds are remembered (see hash.ts).
  await new Promise((resolve) => setTimeout(resolve, 2100));
  assert.equal(hashImport({ path: file }), sha256('value=1\n'));
  assert.equal(hashImport({ path: file }), sha256('value=1\n'));

  // Same size, rewritten at once: the change time moved, so the digest is computed anew.
  writeFileSync(file, 'value=2\n');
  assert.equal(hashImport({ path: file }), sha256('value=2\n'));
  writeFileSync(file, 'value=1\n');
  assert.equal(hashImport({ path: file }), sha256('value=1\n'));
});
