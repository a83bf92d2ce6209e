import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadStackerFiles } from '../../src/parse';
import { assertError, options, stackerError, tempDir, writeFile } from './helpers';

const layer = (name: string) => `${name}:\n  from:\n    type: scratch\n`;
const prereqs = (...paths: string[]) =>
  `config:\n  prerequisites:\n${paths.map((p) => `    - ${p}\n`).join('')}`;

test('loads the prerequisites of a file recursively, relative to the listing file', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'app/stacker.yaml', prereqs('../base/stacker.yaml') + layer('app'));
  const base = writeFile(dir, 'base/stacker.yaml', prereqs('os.yaml') + layer('base'));
  const os = writeFile(dir, 'base/os.yaml', layer('os'));

  const files = loadStackerFiles([top], options());

  assert.deepEqual([...files.keys()], [top, base, os]);
  assert.deepEqual(files.get(base)!.prerequisites, [os]);
});

test('loads prerequisites in the order they are listed', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'top.yaml', prereqs('a.yaml', 'b.yaml'));
  writeFile(dir, 'a.yaml', layer('a'));
  writeFile(dir, 'b.yaml', layer('b'));
  const files = loadStackerFiles([top], options());
  assert.deepEqual(
    [...files.keys()].map((p) => p.slice(dir.length + 1)),
    ['top.yaml', 'a.yaml', 'b.yaml'],
  );
});

test('a prerequisite cycle terminates, each file loaded once', (t) => {
  const dir = tempDir(t);
  const a = writeFile(dir, 'a.yaml', prereqs('b.yaml') + layer('a'));
  const b = writeFile(dir, 'b.yaml', prereqs('a.yaml') + layer('b'));
  assert.deepEqual([...loadStackerFiles([a], options()).keys()], [a, b]);
});

test('a file given twice, or given and listed, is loaded once', (t) => {
  const dir = tempDir(t);
  const a = writeFile(dir, 'a.yaml', prereqs('b.yaml') + layer('a'));
  const b = writeFile(dir, 'b.yaml', layer('b'));
  assert.deepEqual([...loadStackerFiles([a, b, a], options()).keys()], [a, b]);
});

test('a missing prerequisite names the file and line that list it', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'top.yaml', `${layer('a')}${prereqs('gone.yaml')}`);
  const err = stackerError(() => loadStackerFiles([top], options()));
  assertError(err, {
    message: `couldn't find prerequisite ${join(dir, 'gone.yaml')}`,
    file: top,
    line: 6,
    column: 7,
  });
});

test('a url prerequisite is refused at the line that lists it', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'top.yaml', prereqs('https://h/stacker.yaml'));
  const err = stackerError(() => loadStackerFiles([top], options()));
  assertError(err, { message: 'is a url', file: top, line: 3 });
});

test('an error inside a prerequisite is located in the prerequisite', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'top.yaml', prereqs('bad.yaml'));
  const bad = writeFile(dir, 'bad.yaml', 'x:\n  form: y\n');
  const err = stackerError(() => loadStackerFiles([top], options()));
  assertError(err, { message: 'unknown directive form', file: bad, line: 2 });
});

test('rejects a layer name defined in two files, naming both places', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'top.yaml', `${prereqs('other.yaml')}${layer('same')}`);
  const other = writeFile(dir, 'other.yaml', `${layer('x')}${layer('same')}`);
  const err = stackerError(() => loadStackerFiles([top], options()));
  assertError(err, {
    message: `duplicate layer name: both ${top}:4:1 and ${other}:4:1 have same`,
    file: other,
    line: 4,
    layer: 'same',
  });
});

test('substitutions apply to prerequisites too', (t) => {
  const dir = tempDir(t);
  const top = writeFile(dir, 'top.yaml', prereqs('b.yaml'));
  const b = writeFile(dir, 'b.yaml', layer(`\${{NAME}}`));
  const files = loadStackerFiles([top], options({ substitutions: ['NAME=sub'] }));
  assert.equal(files.get(b)!.layers[0]!.name, 'sub');
});
