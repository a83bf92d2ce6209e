import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findStackerFiles } from '../../src/discover/stacker-files';
import { StackerError } from '../../src/errors';
import { tempDir, writeFiles } from '../helpers';

test('finds every stacker.yaml below the search dir, in lexical order, as absolute paths', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'b/stacker.yaml': '',
    'a/deep/er/stacker.yaml': '',
    'stacker.yaml': '',
    'a/not-stacker.yaml': '',
    'a/stacker.yaml.bak': '',
  });
  assert.deepEqual(findStackerFiles({ searchDir: dir }), [
    join(dir, 'a/deep/er/stacker.yaml'),
    join(dir, 'b/stacker.yaml'),
    join(dir, 'stacker.yaml'),
  ]);
});

test('the pattern is a regular expression matched against the absolute path', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'x/image.stacker.yaml': '', 'x/stacker.yaml': '', 'y/other.yaml': '' });
  assert.deepEqual(findStackerFiles({ searchDir: dir, pattern: '\\.stacker\\.yaml$' }), [
    join(dir, 'x/image.stacker.yaml'),
  ]);
  assert.deepEqual(findStackerFiles({ searchDir: dir, pattern: '/y/' }), [
    join(dir, 'y/other.yaml'),
  ]);
});

test('symlinks are neither followed nor matched', (t) => {
  const dir = tempDir(t);
  const elsewhere = tempDir(t);
  writeFiles(elsewhere, { 'linked/stacker.yaml': '' });
  writeFiles(dir, { 'real/stacker.yaml': '' });
  symlinkSync(join(elsewhere, 'linked'), join(dir, 'dirlink'));
  symlinkSync(join(dir, 'real/stacker.yaml'), join(dir, 'stacker.yaml'));
  assert.deepEqual(findStackerFiles({ searchDir: dir }), [join(dir, 'real/stacker.yaml')]);
});

test('the stacker, roots and OCI dirs are not searched', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': '',
    '.stacker/imports/app/stacker.yaml': '',
    'roots/sha256_ab/overlay/stacker.yaml': '',
  });
  const skipDirs = [join(dir, '.stacker'), join(dir, 'roots'), join(dir, 'oci')];
  assert.deepEqual(findStackerFiles({ searchDir: dir, skipDirs }), [join(dir, 'stacker.yaml')]);
});

test('a pattern that does not compile and a missing search dir are errors', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () => findStackerFiles({ searchDir: dir, pattern: '(' }),
    (err: unknown) =>
      err instanceof StackerError && /invalid --stacker-file-pattern \(/.test(err.message),
  );
  assert.throws(
    () => findStackerFiles({ searchDir: join(dir, 'nope') }),
    (err: unknown) =>
      err instanceof StackerError && /--search-dir .* is not a directory/.test(err.message),
  );
});
