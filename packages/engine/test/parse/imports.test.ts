import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FROM_SCRATCH, parse, parseError, parseLayer } from './helpers';

const HASH = 'ab'.repeat(32);
const layerWith = (body: string) => `a:\n${FROM_SCRATCH}${body}`;
const importsOf = (t: Parameters<typeof parse>[0], body: string) => {
  const file = parse(t, layerWith(body));
  return { dir: file.dir, imports: file.layers[0]!.imports.map(({ pos, ...rest }) => rest) };
};

test('a single string is one import, made absolute against the file directory', (t) => {
  const { dir, imports } = importsOf(t, '  imports: files/a.txt\n');
  assert.deepEqual(imports, [{ path: join(dir, 'files/a.txt') }]);
});

test('a list mixes strings and maps', (t) => {
  const { dir, imports } = importsOf(
    t,
    `  imports:\n    - x\n    - path: z\n      hash: ${HASH}\n      dest: /opt/\n`,
  );
  assert.deepEqual(imports, [
    { path: join(dir, 'x') },
    { path: join(dir, 'z'), hash: HASH, dest: '/opt/' },
  ]);
});

test('keeps a trailing slash on import paths', (t) => {
  const { dir, imports } = importsOf(t, '  imports:\n    - dir/\n    - ./\n');
  assert.deepEqual(
    imports.map((i) => i.path),
    [`${join(dir, 'dir')}/`, `${dir}/`],
  );
});

test('keeps http, https and stacker urls as written', (t) => {
  const urls = ['http://h/a', 'https://h/b', 'stacker://other/usr/bin/x'];
  const { imports } = importsOf(t, `  imports:\n${urls.map((u) => `    - ${u}\n`).join('')}`);
  assert.deepEqual(
    imports.map((i) => i.path),
    urls,
  );
});

test('records the position of each import', (t) => {
  const layer = parseLayer(t, layerWith('  imports:\n    - a\n    - path: b\n'));
  assert.deepEqual(
    layer.imports.map((i) => i.pos),
    [
      { line: 5, column: 7 },
      { line: 6, column: 7 },
    ],
  );
});

test('stores the hash lower-case', (t) => {
  const { imports } = importsOf(
    t,
    `  imports:\n    - path: x\n      hash: ${HASH.toUpperCase()}\n`,
  );
  assert.equal(imports[0]!.hash, HASH);
});

test('reads mode as YAML 1.1 octal and uid/gid as integers', (t) => {
  const { imports } = importsOf(
    t,
    '  imports:\n    - path: x\n      mode: 0755\n      uid: 1000\n      gid: 0\n',
  );
  assert.deepEqual([imports[0]!.mode, imports[0]!.uid, imports[0]!.gid], [0o755, 1000, 0]);
});

test('warns that a mode written without a leading 0 is decimal', (t) => {
  const file = parse(t, layerWith('  imports:\n    - path: x\n      mode: 755\n'));
  assert.equal(file.layers[0]!.imports[0]!.mode, 755);
  assert.match(file.said.warnings.join('\n'), /:6:13: .*mode 755 is decimal \(0o1363\)/);
});

test('uid and gid -1 mean unchanged', (t) => {
  const { imports } = importsOf(t, '  imports:\n    - path: x\n      uid: -1\n      gid: -1\n');
  assert.deepEqual([imports[0]!.uid, imports[0]!.gid], [undefined, undefined]);
});

test('ignores an unknown import key with a warning at its line', (t) => {
  const file = parse(t, layerWith('  imports:\n    - path: x\n      perms: 0644\n'));
  assert.match(
    file.said.warnings[0]!,
    /stacker\.yaml:6:7: layer 'a': imports: unknown key 'perms'/,
  );
});

test('rejects imports given as a map', (t) => {
  parseError(t, layerWith('  imports:\n    path: x\n'), {
    message: "'imports' expected an array, found map",
    line: 5,
    layer: 'a',
    directive: 'imports',
  });
});

test('rejects imports given as a number', (t) => {
  parseError(t, layerWith('  imports: 12\n'), {
    message: "'imports' expected an array, found int: 12",
    line: 4,
    column: 12,
  });
});

test('rejects an entry that is neither a string nor a map', (t) => {
  parseError(t, layerWith('  imports:\n    - [a, b]\n'), {
    message: 'could not read imports entry: list',
    line: 5,
    column: 7,
  });
});

test('rejects a map entry without path', (t) => {
  parseError(t, layerWith('  imports:\n    - dest: /x\n'), {
    message: "No 'path' entry found in import",
    line: 5,
  });
});

test('rejects a non-string import key', (t) => {
  parseError(t, layerWith('  imports:\n    - path: x\n      1: y\n'), {
    message: "key '1' in import is not a string",
    line: 6,
  });
});

test('rejects a path that YAML 1.1 reads as a bool, explaining why', (t) => {
  parseError(t, layerWith('  imports:\n    - path: y\n'), {
    message: "value for 'path' in import is not a string",
    line: 5,
    column: 13,
    hint: 'YAML 1.1 reads y as a bool; quote it',
  });
});

test('rejects a path that is not a string', (t) => {
  parseError(t, layerWith('  imports:\n    - path: [x]\n'), {
    message: "value for 'path' in import is not a string",
    line: 5,
  });
});

test('rejects a mode that is not an integer', (t) => {
  parseError(t, layerWith('  imports:\n    - path: x\n      mode: "0644"\n'), {
    message: "value for 'mode' in import is not an integer",
    line: 6,
    column: 13,
  });
  parseError(t, layerWith('  imports:\n    - path: x\n      mode: 1.5\n'), {
    message: "value for 'mode' in import is not an integer",
  });
});

test('rejects a negative uid other than -1', (t) => {
  parseError(t, layerWith('  imports:\n    - path: x\n      uid: -2\n'), {
    message: `'uid' (-2) cannot be negative:`,
    line: 6,
  });
});

test('rejects a hash that is not 64 hex characters', (t) => {
  parseError(t, layerWith('  imports:\n    - path: x\n      hash: abc\n'), {
    message: 'Given hash abc is not valid',
    line: 6,
    column: 13,
  });
});

test("rejects a hash with a 'sha256:' prefix, saying to drop it", (t) => {
  parseError(t, layerWith(`  imports:\n    - path: x\n      hash: sha256:${HASH}\n`), {
    message: 'is not valid',
    hint: "drop the 'sha256:' prefix",
  });
});

test('rejects a relative dest', (t) => {
  parseError(t, layerWith('  imports:\n    - path: x\n      dest: opt/x\n'), {
    message: "'dest' path cannot be relative for: x",
    line: 6,
  });
});

test('the deprecated import directive becomes imports with the legacy layout, warned', (t) => {
  const file = parse(t, layerWith('  import: a\n'));
  const layer = file.layers[0]!;
  assert.deepEqual([layer.imports[0]!.path, layer.legacyImport], [join(file.dir, 'a'), true]);
  assert.match(file.said.warnings[0]!, /:4:3: layer 'a': import: 'import' is deprecated/);
});

test('rejects both import and imports in one layer', (t) => {
  parseError(t, layerWith('  import: a\n  imports: b\n'), {
    message: "layer 'a' cannot have both 'import' and 'imports'",
    line: 4,
    directive: 'import',
  });
});

test('--require-hash rejects an https import without hash', (t) => {
  parseError(
    t,
    layerWith('  imports:\n    - https://h/f\n'),
    { message: 'Remote import needs a hash in yaml for path: https://h/f', line: 5 },
    { requireHash: true },
  );
});

test('--require-hash also checks the deprecated import directive', (t) => {
  parseError(
    t,
    layerWith('  import:\n    - http://h/f\n'),
    { message: 'Remote import needs a hash', directive: 'import' },
    { requireHash: true },
  );
});

test('--require-hash accepts hashed remote imports and unhashed local ones', (t) => {
  const body = `  imports:\n    - path: https://h/f\n      hash: ${HASH}\n    - local\n`;
  assert.equal(parseLayer(t, layerWith(body), { requireHash: true }).imports.length, 2);
});
