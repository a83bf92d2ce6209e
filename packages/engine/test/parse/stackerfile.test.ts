import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadStackerFile, parseStackerText } from '../../src/parse';
import {
  assertError,
  options,
  parse,
  parseError,
  parseLayer,
  stackerError,
  tempDir,
  writeFile,
} from './helpers';

const LAYER = (name: string) => `${name}:\n  from:\n    type: scratch\n`;

test('an empty document has zero layers', (t) => {
  assert.deepEqual(parse(t, '').layers, []);
});

test('a document of comments only has zero layers', (t) => {
  const file = parse(t, '# nothing to build\n\n# yet\n');
  assert.deepEqual([file.layers, file.prerequisites], [[], []]);
});

test('keeps layers in file order with the position of their names', (t) => {
  const file = parse(t, `${LAYER('zeta')}${LAYER('alpha')}`);
  assert.deepEqual(
    file.layers.map((l) => [l.name, l.pos]),
    [
      ['zeta', { line: 1, column: 1 }],
      ['alpha', { line: 4, column: 1 }],
    ],
  );
});

test('records the absolute path and directory of the file on it and on its layers', (t) => {
  const dir = tempDir(t);
  const path = writeFile(dir, 'sub/stacker.yaml', LAYER('a'));
  const file = loadStackerFile(path, options());
  assert.deepEqual([file.path, file.dir, file.layers[0]!.file], [path, join(dir, 'sub'), path]);
});

test('parseStackerText resolves relative paths against the directory of the given path', () => {
  const file = parseStackerText(`${LAYER('a')}  imports: x\n`, '/p/q/stacker.yaml', options());
  assert.equal(file.layers[0]!.imports[0]!.path, '/p/q/x');
});

test('reads YAML 1.1 booleans: yes, on and y are true', (t) => {
  const file = parse(t, `${LAYER('a')}  build_only: yes\n${LAYER('b')}  build_only: on\n`);
  assert.deepEqual(
    file.layers.map((l) => l.buildOnly),
    [true, true],
  );
});

test('follows anchors, aliases and << merge keys', (t) => {
  const file = parse(
    t,
    'base: &base\n  from: &scratch\n    type: scratch\n  run: echo hi\n' +
      'copy:\n  <<: *base\n  run: echo override\nother:\n  from: *scratch\n',
  );
  assert.deepEqual(
    file.layers.map((l) => [l.name, l.from.type, l.run]),
    [
      ['base', 'scratch', ['echo hi']],
      ['copy', 'scratch', ['echo override']],
      ['other', 'scratch', []],
    ],
  );
});

test('rejects an alias to an anchor that does not exist', (t) => {
  parseError(t, 'a:\n  from: *nowhere\n', {
    message: 'alias *nowhere refers to no anchor',
    line: 2,
    column: 9,
  });
});

test('rejects a layer name written twice, naming both lines', (t) => {
  const err = parseError(t, `${LAYER('a')}${LAYER('a')}`, {
    message: /^duplicate layer name: both \S+stacker\.yaml:1:1 and \S+stacker\.yaml:4:1 have a$/,
    line: 4,
    column: 1,
  });
  assert.ok(err.hint);
});

test('rejects a directive written twice in a layer, naming both lines', (t) => {
  parseError(t, `${LAYER('a')}  run: one\n  run: two\n`, {
    message: "duplicate key 'run' in layer 'a': first at line 4, again at line 5",
    line: 5,
    layer: 'a',
  });
});

test('rejects text that is not valid YAML with its line and column', (t) => {
  const err = parseError(t, 'a:\n  from: [scratch\n', { message: "couldn't parse stacker file" });
  assert.ok(err.where.line! >= 2);
  assert.ok(err.where.column! >= 1);
});

test('rejects tab indentation with a hint', (t) => {
  parseError(t, 'a:\n\tfrom: x\n', {
    message: "couldn't parse stacker file",
    line: 2,
    column: 1,
    hint: 'tabs',
  });
});

test('rejects a second YAML document', (t) => {
  parseError(t, `${LAYER('a')}---\n${LAYER('b')}`, {
    message: "couldn't parse stacker file",
    line: 4,
    hint: "'---'",
  });
});

test('rejects a top level that is not a map', (t) => {
  parseError(t, '- a\n- b\n', {
    message: /^couldn't parse stacker file \S+: expected a map of layer names, found list$/,
    line: 1,
    column: 1,
  });
});

test('rejects a layer name that YAML reads as a bool or a number, suggesting quotes', (t) => {
  parseError(t, LAYER('yes'), { message: 'cannot cast yes to string', line: 1, hint: '"yes"' });
  parseError(t, LAYER('12'), { message: 'cannot cast 12 to string', line: 1 });
});

test('accepts a quoted layer name that would otherwise be a bool', (t) => {
  assert.equal(parseLayer(t, LAYER('"yes"')).name, 'yes');
});

test('reports a missing stacker file as unreadable, naming it', (t) => {
  const path = join(tempDir(t), 'nope.yaml');
  const err = stackerError(() => loadStackerFile(path, options()));
  assertError(err, { message: `couldn't read stacker file: ${path}`, file: path });
});

test('refuses stacker files given as urls', () => {
  const err = stackerError(() => loadStackerFile('https://example.com/stacker.yaml', options()));
  assertError(err, { message: 'stacker files given as urls are not supported' });
});

test('forwards YAML warnings such as unknown tags, with their location', (t) => {
  const file = parse(t, `${LAYER('a')}  run: !shell echo\n`);
  assert.match(file.said.warnings.join('\n'), /stacker\.yaml:4:8: Unresolved tag: !shell/);
});

test('config.prerequisites are made absolute against the file directory, urls kept', (t) => {
  const file = parse(
    t,
    'config:\n  prerequisites:\n    - ../base/stacker.yaml\n    - /abs/s.yaml\n' +
      '    - https://h/s.yaml\n',
  );
  assert.deepEqual(file.prerequisites, [
    join(file.dir, '../base/stacker.yaml'),
    '/abs/s.yaml',
    'https://h/s.yaml',
  ]);
  assert.deepEqual(
    file.prerequisitesPos!.map((p) => p.line),
    [3, 4, 5],
  );
});

test('config is not a layer', (t) => {
  const file = parse(t, `config:\n  prerequisites: []\n${LAYER('a')}`);
  assert.deepEqual(
    file.layers.map((l) => l.name),
    ['a'],
  );
});

test('ignores unknown config keys with a warning naming the line', (t) => {
  const file = parse(t, 'config:\n  color: blue\n');
  assert.match(file.said.warnings[0]!, /stacker\.yaml:2:3: config: unknown key 'color'/);
});

test('rejects prerequisites that are not a list with the config message', (t) => {
  parseError(t, 'config:\n  prerequisites: ../x.yaml\n', {
    message: "cannot interpret 'config' value, note the 'config' section in the stackerfile",
    line: 2,
    column: 18,
    directive: 'config',
  });
});

test('rejects a config section that is not a map', (t) => {
  parseError(t, 'config: [a]\n', { message: "cannot interpret 'config' value", line: 1 });
});

test('rejects a prerequisite entry that is a map', (t) => {
  parseError(t, 'config:\n  prerequisites:\n    - {path: x}\n', {
    message: "cannot interpret 'config' value",
    line: 3,
    column: 7,
  });
});

test('rejects a control character at its line and column', (t) => {
  parseError(t, `${LAYER('a')}  run: x\u0001y\n`, {
    message: /couldn't parse stacker file \S+: control character 0x1 is not allowed/,
    line: 4,
    column: 9,
    hint: 'binary',
  });
});

test('rejects invalid UTF-8 at the first bad byte', (t) => {
  const dir = tempDir(t);
  const bytes = Buffer.concat([Buffer.from(`${LAYER('a')}  run: ab`), Buffer.from([0xff, 0x0a])]);
  const path = writeFile(dir, 'stacker.yaml', bytes);
  const err = stackerError(() => loadStackerFile(path, options()));
  assertError(err, { message: 'invalid UTF-8', file: path, line: 4, column: 10 });
});

test('a relative stacker file path is made absolute against the cwd', () => {
  const file = parseStackerText(LAYER('a'), 'sub/stacker.yaml', options());
  assert.equal(file.path, join(process.cwd(), 'sub/stacker.yaml'));
});

test('rejects a map that merges itself', (t) => {
  parseError(t, `a: &a\n  <<: *a\n${LAYER('b').slice(3)}`, {
    message: "'<<' merges nest too deeply in layer 'a'",
    line: 2,
  });
});
