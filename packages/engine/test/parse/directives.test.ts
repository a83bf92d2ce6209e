import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostArch } from '../../src/parse';
import { FROM_SCRATCH, parse, parseError, parseLayer } from './helpers';

const layerWith = (body: string) => `a:\n${FROM_SCRATCH}${body}`;
const one = (t: Parameters<typeof parseLayer>[0], body: string) => parseLayer(t, layerWith(body));

test('rejects an unknown directive with its line and the nearest valid name', (t) => {
  parseError(t, layerWith('  enviroment:\n    A: b\n'), {
    message: 'unknown directive enviroment',
    line: 4,
    column: 3,
    layer: 'a',
    hint: "did you mean 'environment'?",
  });
});

test('rejects an unknown directive far from any name, listing the valid names', (t) => {
  parseError(t, layerWith('  dockerfile: x\n'), {
    message: 'unknown directive dockerfile',
    hint: /^valid names: from, imports, import, overlay_dirs, run, .*, bom$/,
  });
});

test("rejects stacker's internal was_legacy_import flag, pointing to import:", (t) => {
  parseError(t, layerWith('  was_legacy_import: true\n'), {
    message: 'unknown directive was_legacy_import',
    line: 4,
    hint: "use 'import:'",
  });
});

test('rejects a layer that is not a map', (t) => {
  parseError(t, 'a:\n  - from\n', {
    message: "layer 'a' must be a map of directives, found list",
    line: 2,
    column: 3,
    layer: 'a',
  });
});

test('an empty layer has no base', (t) => {
  parseError(t, 'a:\n', { message: 'invalid layer: no base (from directive)', line: 1 });
});

test('records the position of every directive present', (t) => {
  const layer = one(t, '  run: x\n  build_only: true\n');
  assert.deepEqual(layer.directivePos, {
    from: { line: 2, column: 3 },
    run: { line: 4, column: 3 },
    build_only: { line: 5, column: 3 },
  });
});

test('fills the defaults: linux, the host arch in Go naming, nothing to run', (t) => {
  const layer = parseLayer(t, `a:\n${FROM_SCRATCH}`);
  assert.deepEqual(
    [layer.os, layer.arch, layer.run, layer.cmd, layer.buildOnly, layer.legacyImport],
    ['linux', hostArch(), [], undefined, false, false],
  );
});

test('hostArch maps Node architecture names to Go names', () => {
  assert.deepEqual(
    ['x64', 'arm64', 'ia32', 'arm', 's390x'].map((a) => hostArch(a)),
    ['amd64', 'arm64', '386', 'arm', 's390x'],
  );
});

test('reads os and arch', (t) => {
  const layer = one(t, '  os: windows\n  arch: arm64\n');
  assert.deepEqual([layer.os, layer.arch], ['windows', 'arm64']);
});

test('rejects an os or arch written without a value', (t) => {
  parseError(t, layerWith('  os:\n'), { message: '"os" value cannot be empty', line: 4 });
  parseError(t, layerWith('  arch: ~\n'), { message: '"arch" value cannot be empty', line: 4 });
});

test('run takes a string as one line and a list as lines', (t) => {
  assert.deepEqual(one(t, '  run: echo hi\n').run, ['echo hi']);
  assert.deepEqual(one(t, '  run:\n    - a\n    - |\n      b\n      c\n').run, ['a', 'b\nc\n']);
});

test('rejects a run list item that is not a string', (t) => {
  parseError(t, layerWith('  run:\n    - echo\n    - 12\n'), {
    message: 'unknown run array type: int',
    line: 6,
    column: 7,
    directive: 'run',
  });
});

test('rejects a run given as a map', (t) => {
  parseError(t, layerWith('  run:\n    sh: x\n'), { message: 'unknown directive type: map' });
});

test('generate_labels reads like run', (t) => {
  assert.deepEqual(one(t, '  generate_labels: echo x > /oci-labels/a\n').generateLabels, [
    'echo x > /oci-labels/a',
  ]);
});

test('cmd given as a string is split into shell words', (t) => {
  assert.deepEqual(one(t, `  cmd: sh -c "echo 'a b'"\n`).cmd, ['sh', '-c', "echo 'a b'"]);
});

test('entrypoint and full_command given as lists are kept verbatim', (t) => {
  const layer = one(t, '  entrypoint: ["a b", c]\n  full_command: [x]\n');
  assert.deepEqual([layer.entrypoint, layer.fullCommand], [['a b', 'c'], ['x']]);
});

test('a cmd without value counts as absent', (t) => {
  assert.equal(one(t, '  cmd:\n').cmd, undefined);
});

test('rejects a cmd with an unterminated quote', (t) => {
  parseError(t, layerWith(`  cmd: echo "oops\n`), {
    message: "unterminated double quote in 'cmd'",
    line: 4,
    column: 8,
    directive: 'cmd',
  });
});

test('environment keeps file order and turns every scalar into its source text', (t) => {
  const layer = one(t, '  environment:\n    Z: 1\n    A: 0777\n    B: true\n    C:\n    D: "q"\n');
  assert.deepEqual(layer.environment, [
    ['Z', '1'],
    ['A', '0777'],
    ['B', 'true'],
    ['C', ''],
    ['D', 'q'],
  ]);
});

test('labels, annotations and build_env are maps of text', (t) => {
  const layer = one(t, '  labels: {v: 1.0}\n  annotations: {a: on}\n  build_env: {X: 2}\n');
  assert.deepEqual(
    [layer.labels, layer.annotations, layer.buildEnv],
    [{ v: '1.0' }, { a: 'on' }, { X: '2' }],
  );
});

test('rejects an environment that is not a map', (t) => {
  parseError(t, layerWith('  environment:\n    - A=b\n'), {
    message: "'environment' expected a map, found list",
    line: 5,
    directive: 'environment',
  });
});

test('rejects a nested value in labels', (t) => {
  parseError(t, layerWith('  labels:\n    a:\n      b: c\n'), {
    message: "value of 'a' in 'labels' expected a string, found map",
    line: 6,
  });
});

test('rejects a key written twice in environment', (t) => {
  parseError(t, layerWith('  environment:\n    A: 1\n    A: 2\n'), {
    message: "duplicate key 'A' in 'environment': first at line 5, again at line 6",
    line: 6,
  });
});

test('volumes is a list of text', (t) => {
  assert.deepEqual(one(t, '  volumes:\n    - /data\n    - 1\n').volumes, ['/data', '1']);
});

test('rejects volumes given as a bare string', (t) => {
  parseError(t, layerWith('  volumes: /data\n'), {
    message: "'volumes' expected a list, found string: /data",
    line: 4,
    column: 12,
  });
});

test('working_dir and runtime_user are text (runtime_user: 1000 gives "1000")', (t) => {
  const layer = one(t, '  working_dir: /src\n  runtime_user: 1000\n');
  assert.deepEqual([layer.workingDir, layer.runtimeUser], ['/src', '1000']);
});

test('rejects a build_only that is not a bool', (t) => {
  parseError(t, layerWith('  build_only: "true"\n'), {
    message: "'build_only' expected a bool, found string",
    line: 4,
  });
});

test('build_env_passthrough is a list of regexes', (t) => {
  assert.deepEqual(one(t, '  build_env_passthrough: ["GO.*", TERM]\n').buildEnvPassthrough, [
    'GO.*',
    'TERM',
  ]);
});

test('rejects a build_env_passthrough entry that is not a valid regex', (t) => {
  parseError(t, layerWith('  build_env_passthrough:\n    - OK\n    - "(unclosed"\n'), {
    message: "build_env_passthrough entry '(unclosed' is not a valid regular expression",
    line: 6,
    column: 7,
  });
});

test('warns that bom is deprecated and ignores it', (t) => {
  const file = parse(t, layerWith('  bom: {generate: true}\n'));
  assert.match(file.said.warnings[0]!, /stacker\.yaml:4:3: layer 'a': bom: 'bom' is deprecated/);
});

test('binds: a path alone is mounted at the same path', (t) => {
  const layer = one(t, '  binds:\n    - /dev/kvm\n');
  assert.deepEqual(layer.binds, [
    { source: '/dev/kvm', dest: '/dev/kvm', pos: { line: 5, column: 7 } },
  ]);
});

test('binds: "source -> dest" and source/dest maps', (t) => {
  const file = parse(
    t,
    layerWith('  binds:\n    - /a  ->  /b\n    - {source: rel}\n    - {source: /c, dest: /d}\n'),
  );
  assert.deepEqual(
    file.layers[0]!.binds.map(({ source, dest }) => [source, dest]),
    [
      ['/a', '/b'],
      [join(file.dir, 'rel'), join(file.dir, 'rel')],
      ['/c', '/d'],
    ],
  );
});

test('binds: a relative dest is a path in the container, not on the host', (t) => {
  const layer = one(t, '  binds:\n    - /host/cache -> var/cache\n');
  assert.equal(layer.binds[0]!.dest, '/var/cache');
});

test('binds: a map with hash: true marks the bind as hashed; hash: false is a plain bind', (t) => {
  const file = parse(
    t,
    layerWith('  binds:\n    - {source: /c, dest: /d, hash: true}\n    - {source: /e, hash: no}\n'),
  );
  assert.deepEqual(
    file.layers[0]!.binds.map(({ source, dest, hash }) => [source, dest, hash]),
    [
      ['/c', '/d', true],
      ['/e', '/e', undefined],
    ],
  );
});

test("rejects a bind's hash given as a digest, saying to write true", (t) => {
  parseError(t, layerWith('  binds:\n    - {source: /c, hash: sha256:abc}\n'), {
    message: "'hash' in bind is true or false, not a digest: sha256:abc",
    line: 5,
    hint: 'hash: true',
  });
});

test('rejects a bind string that is not "source -> dest"', (t) => {
  parseError(t, layerWith('  binds:\n    - /a /b\n'), {
    message: 'invalid Bind: /a /b',
    line: 5,
    directive: 'binds',
  });
});

test('rejects a bind map without source', (t) => {
  parseError(t, layerWith('  binds:\n    - dest: /x\n'), {
    message: "unexpected 'bind': missing required field 'source'",
    line: 5,
  });
});

test('rejects a bind entry of another type', (t) => {
  parseError(t, layerWith('  binds:\n    - 12\n'), {
    message: "unexpected 'bind' data of type: int",
    line: 5,
  });
});

test('overlay_dirs: source made absolute, dest defaults to /', (t) => {
  const file = parse(
    t,
    layerWith('  overlay_dirs:\n    - source: files\n    - {source: /x, dest: /opt}\n'),
  );
  assert.deepEqual(
    file.layers[0]!.overlayDirs.map(({ source, dest }) => [source, dest]),
    [
      [join(file.dir, 'files'), '/'],
      ['/x', '/opt'],
    ],
  );
});

test('rejects an overlay_dirs entry without source', (t) => {
  parseError(t, layerWith('  overlay_dirs:\n    - dest: /opt\n'), {
    message: "overlay_dirs entry has no 'source'",
    line: 5,
  });
});

test("rejects ':' in a layer name with stacker's message", (t) => {
  parseError(t, 'a:b:\n  from:\n    type: scratch\n', {
    message: "using ':' in the layer name (a:b) is forbidden due to overlay constraints",
    line: 1,
  });
});

test('rejects a layer name that is not a valid OCI reference name', (t) => {
  parseError(t, 'my layer:\n  from:\n    type: scratch\n', {
    message: "layer name 'my layer' is not a valid OCI reference name",
    line: 1,
    hint: 'build_only',
  });
});

test('accepts any safe name for a build_only layer', (t) => {
  const layer = parseLayer(t, 'My_Layer-:\n  from:\n    type: scratch\n  build_only: true\n');
  assert.equal(layer.name, 'My_Layer-');
});

test('accepts OCI names with separators and slashes', (t) => {
  const layer = parseLayer(t, 'org/app-1.2_x:\n  from:\n    type: scratch\n');
  assert.equal(layer.name, 'org/app-1.2_x');
});

test('rejects a layer name with a ".." segment even when build_only', (t) => {
  parseError(t, '../x:\n  from:\n    type: scratch\n  build_only: true\n', {
    message: "layer name '../x' cannot be used as a directory name",
    line: 1,
  });
});

test('ignores unknown keys of bind and overlay_dirs maps with a warning', (t) => {
  const file = parse(
    t,
    layerWith(
      '  binds:\n    - {source: /a, ro: true}\n  overlay_dirs:\n    - {source: /b, mode: x}\n',
    ),
  );
  assert.deepEqual(
    file.said.warnings.map((w) => w.replace(/^\S+stacker\.yaml/, '')),
    [
      ":5:20: layer 'a': binds: unknown key 'ro' in bind is ignored",
      ":7:20: layer 'a': overlay_dirs: unknown key 'mode' in overlay_dirs entry is ignored",
    ],
  );
});

test('records the position of each overlay dir', (t) => {
  const layer = one(t, '  overlay_dirs:\n    - source: /x\n');
  assert.deepEqual(layer.overlayDirs[0]!.pos, { line: 5, column: 7 });
});
