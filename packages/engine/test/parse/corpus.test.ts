/**
 * A corpus of broken stacker files: each must give a StackerError located in the file (file
 * and line), never another kind of exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadStackerFile } from '../../src/parse';
import { options, stackerError, tempDir, writeFile } from './helpers';

interface Broken {
  name: string;
  text: string | Buffer | (() => string | Buffer);
  /** Substring or pattern of the message. */
  message: string | RegExp;
  line?: number;
  substitutions?: string[];
  requireHash?: boolean;
}

const S = '  from:\n    type: scratch\n';
const HASH = 'c'.repeat(64);

/** A deterministic byte soup with NULs, control characters and invalid UTF-8. */
function garbage(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

const corpus: Broken[] = [
  // Types.
  {
    name: 'run is a map',
    text: `a:\n${S}  run: {x: y}\n`,
    message: 'unknown directive type',
    line: 4,
  },
  {
    name: 'run item is a bool',
    text: `a:\n${S}  run: [yes]\n`,
    message: 'unknown run array type: bool',
  },
  { name: 'cmd is a number', text: `a:\n${S}  cmd: 12\n`, message: 'unknown directive type: int' },
  {
    name: 'environment is a list',
    text: `a:\n${S}  environment: [A=b]\n`,
    message: 'expected a map',
  },
  { name: 'labels value is a list', text: `a:\n${S}  labels: {a: [1]}\n`, message: 'found list' },
  { name: 'volumes is a string', text: `a:\n${S}  volumes: /v\n`, message: 'expected a list' },
  {
    name: 'build_only is a string',
    text: `a:\n${S}  build_only: "yes"\n`,
    message: 'expected a bool',
  },
  {
    name: 'working_dir is a map',
    text: `a:\n${S}  working_dir: {a: b}\n`,
    message: 'expected a string',
  },
  { name: 'os is null', text: `a:\n${S}  os:\n`, message: '"os" value cannot be empty', line: 4 },
  { name: 'arch is null', text: `a:\n${S}  arch: null\n`, message: '"arch" value cannot be empty' },
  {
    name: 'insecure is a number',
    text: 'a:\n  from: {type: docker, url: x, insecure: 2}\n',
    message: 'expected a bool',
  },
  // Unknown keys.
  {
    name: 'unknown directive',
    text: `a:\n${S}  runn: x\n`,
    message: 'unknown directive runn',
    line: 4,
  },
  {
    name: 'unknown from key',
    text: 'a:\n  from:\n    type: scratch\n    tags: x\n',
    message: 'unknown image source directive tags',
    line: 4,
  },
  {
    name: 'internal flag was_bom',
    text: `a:\n${S}  was_bom: true\n`,
    message: 'unknown directive was_bom',
  },
  // Structure.
  { name: 'layer is a string', text: 'a: hello\n', message: "layer 'a' must be a map", line: 1 },
  {
    name: 'layer is a list',
    text: 'a:\n  - from: x\n',
    message: "layer 'a' must be a map",
    line: 2,
  },
  {
    name: 'from is a list',
    text: 'a:\n  from: [docker]\n',
    message: "'from' expected a map",
    line: 2,
  },
  { name: 'from is a string', text: 'a:\n  from: scratch\n', message: "'from' expected a map" },
  { name: 'from is missing', text: 'a:\n  run: x\n', message: 'no base (from directive)', line: 1 },
  {
    name: 'from type is missing',
    text: 'a:\n  from: {url: x}\n',
    message: 'no base (from directive)',
  },
  {
    name: 'unknown from type',
    text: 'a:\n  from: {type: zip}\n',
    message: 'unknown layer type: zip',
  },
  { name: 'docker without url', text: 'a:\n  from: {type: docker}\n', message: 'needs a url' },
  {
    name: 'built without tag',
    text: 'a:\n  from: {type: built}\n',
    message: "from tag cannot be empty for image type 'built'",
  },
  {
    name: 'oci url without tag',
    text: 'a:\n  from: {type: oci, url: dir}\n',
    message: 'bad OCI tag',
  },
  {
    name: 'top level is a list',
    text: '- a\n- b\n',
    message: 'expected a map of layer names',
    line: 1,
  },
  {
    name: 'top level is a scalar',
    text: 'just text\n',
    message: 'expected a map of layer names',
    line: 1,
  },
  {
    name: 'top-level key is a number',
    text: `1:\n${S}`,
    message: 'cannot cast 1 to string',
    line: 1,
  },
  {
    name: 'top-level key is null',
    text: `~:\n${S}`,
    message: 'cannot cast null to string',
    line: 1,
  },
  {
    name: 'config prerequisites is a string',
    text: 'config:\n  prerequisites: x.yaml\n',
    message: "cannot interpret 'config' value",
    line: 2,
  },
  { name: 'config is a list', text: 'config: [a]\n', message: "cannot interpret 'config' value" },
  // Imports.
  {
    name: 'imports is a map',
    text: `a:\n${S}  imports: {path: x}\n`,
    message: "'imports' expected an array",
  },
  {
    name: 'import entry is a list',
    text: `a:\n${S}  imports: [[x]]\n`,
    message: 'could not read imports entry',
  },
  {
    name: 'import without path',
    text: `a:\n${S}  imports: [{hash: ${HASH}}]\n`,
    message: "No 'path' entry",
  },
  {
    name: 'import hash too short',
    text: `a:\n${S}  imports: [{path: x, hash: abc}]\n`,
    message: 'Given hash abc is not valid',
  },
  {
    name: 'import dest relative',
    text: `a:\n${S}  imports: [{path: x, dest: rel}]\n`,
    message: "'dest' path cannot be relative",
  },
  {
    name: 'import uid -5',
    text: `a:\n${S}  imports: [{path: x, uid: -5}]\n`,
    message: "'uid' (-5) cannot be negative",
  },
  {
    name: 'import mode is a string',
    text: `a:\n${S}  imports: [{path: x, mode: rw}]\n`,
    message: 'is not an integer',
  },
  {
    name: 'import and imports',
    text: `a:\n${S}  import: x\n  imports: z\n`,
    message: "cannot have both 'import' and 'imports'",
  },
  {
    name: 'remote import without hash',
    text: `a:\n${S}  imports: https://h/x\n`,
    message: 'Remote import needs a hash',
    requireHash: true,
  },
  // Binds, overlay dirs, regexes, commands, names.
  { name: 'bind with two words', text: `a:\n${S}  binds: ["/a /b"]\n`, message: 'invalid Bind' },
  {
    name: 'bind map without source',
    text: `a:\n${S}  binds: [{dest: /x}]\n`,
    message: "missing required field 'source'",
  },
  {
    name: 'bind is a number',
    text: `a:\n${S}  binds: [7]\n`,
    message: "unexpected 'bind' data of type: int",
  },
  {
    name: 'overlay_dirs entry is a string',
    text: `a:\n${S}  overlay_dirs: [x]\n`,
    message: 'must be a map',
  },
  {
    name: 'invalid passthrough regex',
    text: `a:\n${S}  build_env_passthrough: ["*"]\n`,
    message: 'not a valid regular expression',
  },
  {
    name: 'cmd with unterminated quote',
    text: `a:\n${S}  cmd: "echo 'x"\n`,
    message: 'unterminated single quote',
  },
  { name: 'colon in layer name', text: `"a:b":\n${S}`, message: "using ':' in the layer name" },
  { name: 'invalid OCI name', text: `-bad-:\n${S}`, message: 'not a valid OCI reference name' },
  // Substitutions.
  {
    name: 'placeholder without value',
    text: `a:\n${S}  run: \${{NOPE}}\n`,
    message: 'no value for substitution NOPE',
    line: 4,
  },
  {
    name: 'shell-style use of a substitution key',
    text: `a:\n${S}  run: echo $V\n`,
    message: '1 instances of unsupported placeholders',
    substitutions: ['V=1'],
    line: 4,
  },
  // YAML syntax.
  { name: 'duplicate layer', text: `a:\n${S}a:\n${S}`, message: 'duplicate layer name', line: 4 },
  {
    name: 'duplicate directive',
    text: `a:\n${S}  run: x\n  run: y\n`,
    message: "duplicate key 'run'",
    line: 5,
  },
  {
    name: 'duplicate environment key',
    text: `a:\n${S}  environment: {A: 1, A: 2}\n`,
    message: "duplicate key 'A'",
  },
  {
    name: 'duplicate from key',
    text: 'a:\n  from: {type: scratch, type: docker}\n',
    message: "duplicate key 'type'",
  },
  {
    name: 'tab indentation',
    text: 'a:\n\tfrom: x\n',
    message: "couldn't parse stacker file",
    line: 2,
  },
  {
    name: 'unclosed flow sequence',
    text: 'a:\n  run: [x\n',
    message: "couldn't parse stacker file",
  },
  { name: 'unclosed quote', text: 'a:\n  run: "x\n', message: "couldn't parse stacker file" },
  {
    name: 'two documents',
    text: `a:\n${S}---\nb: 1\n`,
    message: "couldn't parse stacker file",
    line: 4,
  },
  {
    name: 'bad indentation',
    text: 'a:\n  from:\n    type: scratch\n   run: x\n',
    message: "couldn't parse stacker file",
  },
  { name: 'alias to nothing', text: 'a: *nope\n', message: 'refers to no anchor', line: 1 },
  {
    name: 'merge of a scalar',
    text: `a:\n  <<: 1\n${S}`,
    message: "'<<' in layer 'a' must merge a map",
  },
  { name: 'binary garbage', text: garbage(4096), message: /./ },
  { name: 'NUL bytes in a layer', text: Buffer.from(`a:\n${S}  run: x\0y\n\0\0\0`), message: /./ },
  {
    name: 'deeply nested flow',
    text: () => `a: ${'['.repeat(20000)}${']'.repeat(20000)}\n`,
    message: /./,
  },
  {
    name: 'deeply nested block maps',
    text: () => Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:\n`).join(''),
    message: /./,
  },
  {
    name: 'billion laughs through merge keys',
    text: () => {
      const lines = ['l0: &l0 {run: x}'];
      for (let i = 1; i < 30; i++)
        lines.push(
          `l${i}: &l${i} {<<: [${Array(9)
            .fill(`*l${i - 1}`)
            .join(', ')}]}`,
        );
      return `${lines.join('\n')}\n`;
    },
    message: 'no base (from directive)',
    line: 1,
  },
  {
    name: 'a 5 MB file broken at its end',
    text: () => {
      const steps = '    - echo some build step with a long line of text\n'.repeat(100_000);
      return `a:\n${S}  run:\n${steps}  bad: [x\n`;
    },
    message: "couldn't parse stacker file",
  },
];

test('the corpus holds at least 40 broken files', () => {
  assert.ok(corpus.length >= 40, `${corpus.length} entries`);
});

for (const entry of corpus) {
  test(`broken file gives a located StackerError: ${entry.name}`, (t) => {
    const text = typeof entry.text === 'function' ? entry.text() : entry.text;
    const path = writeFile(tempDir(t), 'stacker.yaml', text);
    const opts = options({
      substitutions: entry.substitutions ?? [],
      requireHash: entry.requireHash,
    });
    const err = stackerError(() => loadStackerFile(path, opts));

    assert.equal(err.where.file, path, err.format());
    assert.ok(Number.isInteger(err.where.line) && err.where.line! >= 1, err.format());
    if (entry.line !== undefined) assert.equal(err.where.line, entry.line, err.format());
    const message = entry.message;
    assert.ok(
      typeof message === 'string' ? err.message.includes(message) : message.test(err.message),
      err.format(),
    );
  });
}
