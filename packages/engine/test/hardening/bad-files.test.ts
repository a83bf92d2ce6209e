/**
 * Broken stacker files at the BUILD level: whole file sets on disk given to `build()` (and
 * a few to the CLI), where the parse corpus (test/parse/corpus.test.ts) looks at one text
 * at a time. Each must fail with a StackerError located in the right file (and line, when
 * the problem is written somewhere), before anything is created on disk; none may crash.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from '../../src/build/build';
import { StackerError } from '../../src/errors';
import { memoryLogger } from '../../src/log';
import { errorOf, runCli, tempDir, writeFiles } from '../helpers';

const S = '  from:\n    type: scratch\n';
const prereq = (...paths: string[]) =>
  `config:\n  prerequisites:\n${paths.map((p) => `    - ${p}\n`).join('')}`;

interface Case {
  name: string;
  files: Record<string, string>;
  /** The file given to the build (default stacker.yaml). */
  entry?: string;
  substitutions?: string[];
  message: RegExp;
  /** File (relative) and line the error must name; line omitted when not written anywhere. */
  file: string;
  line?: number;
}

const cases: Case[] = [
  {
    name: 'a prerequisite cycle across three files',
    files: {
      'stacker.yaml': `${prereq('b/stacker.yaml')}a:\n${S}`,
      'b/stacker.yaml': `${prereq('../c/stacker.yaml')}b:\n${S}`,
      'c/stacker.yaml': `${prereq('../stacker.yaml')}c:\n${S}`,
    },
    message:
      /cycle: .*stacker\.yaml -> .*b\/stacker\.yaml -> .*c\/stacker\.yaml -> .*stacker\.yaml/,
    file: 'c/stacker.yaml',
    line: 3,
  },
  {
    name: 'a file that is its own prerequisite',
    files: { 'stacker.yaml': `${prereq('./stacker.yaml')}a:\n${S}` },
    message: /prerequisites make a cycle/,
    file: 'stacker.yaml',
    line: 3,
  },
  {
    name: 'a missing prerequisite file',
    files: { 'stacker.yaml': `${prereq('base/stacker.yaml')}a:\n${S}` },
    message: /couldn't find prerequisite .*base\/stacker\.yaml/,
    file: 'stacker.yaml',
    line: 3,
  },
  {
    name: 'a prerequisite that is a directory',
    files: { 'stacker.yaml': `${prereq('sub')}a:\n${S}`, 'sub/x': '' },
    message: /couldn't find prerequisite .*sub/,
    file: 'stacker.yaml',
    line: 3,
  },
  {
    name: 'a missing prerequisite two files down',
    files: {
      'stacker.yaml': `${prereq('b.yaml')}a:\n${S}`,
      'b.yaml': `${prereq('gone.yaml')}b:\n${S}`,
    },
    message: /couldn't find prerequisite .*gone\.yaml/,
    file: 'b.yaml',
    line: 3,
  },
  {
    name: 'binary garbage in a prerequisite',
    files: {
      'stacker.yaml': `${prereq('b.yaml')}a:\n${S}`,
      'b.yaml': '\u0000\u0001\u0002\ufffd\u0007garbage: [\u0000',
    },
    message: /./,
    file: 'b.yaml',
  },
  {
    name: 'a broken directive in a prerequisite',
    files: {
      'stacker.yaml': `${prereq('b.yaml')}a:\n${S}`,
      'b.yaml': `b:\n${S}  runn: x\n`,
    },
    message: /unknown directive runn/,
    file: 'b.yaml',
    line: 4,
  },
  {
    name: 'the same layer name in a file and its prerequisite',
    files: {
      'stacker.yaml': `${prereq('b.yaml')}same:\n${S}`,
      'b.yaml': `same:\n${S}`,
    },
    message: /duplicate layer name: both .*\/stacker\.yaml:4:1 and .*\/b\.yaml:1:1 have same/,
    file: 'b.yaml',
    line: 1,
  },
  {
    name: 'a built base from a file that is not a prerequisite',
    files: {
      'stacker.yaml': 'a:\n  from:\n    type: built\n    tag: elsewhere\n',
      'other.yaml': `elsewhere:\n${S}`,
    },
    message: /couldn't find dependencies for a: base layer elsewhere/,
    file: 'stacker.yaml',
    line: 3,
  },
  {
    name: 'a stacker:// import that names no path in the layer',
    files: { 'stacker.yaml': `b:\n${S}a:\n${S}  imports:\n    - stacker://b\n` },
    message: /bad stacker:\/\/ url stacker:\/\/b: it names no file or directory of the layer/,
    file: 'stacker.yaml',
    line: 8,
  },
  {
    name: 'an empty imports entry',
    files: { 'stacker.yaml': `a:\n${S}  imports:\n    -\n` },
    message: /imports entry is empty/,
    file: 'stacker.yaml',
    line: 5,
  },
  {
    name: 'layers built on each other in a cycle',
    files: {
      'stacker.yaml':
        'p:\n  from:\n    type: built\n    tag: q\nq:\n  from:\n    type: built\n    tag: p\n',
    },
    message: /layers depend on each other in a cycle: p -> q -> p/,
    file: 'stacker.yaml',
    line: 1,
  },
  {
    name: 'a stacker:// import of a layer nobody defines',
    files: { 'stacker.yaml': `a:\n${S}  imports:\n    - stacker://ghost/file\n` },
    message: /couldn't find dependencies for a: stacker:\/\/ghost\/file/,
    file: 'stacker.yaml',
    line: 5,
  },
  {
    name: 'a substitution missing in a prerequisite only',
    files: {
      'stacker.yaml': `${prereq('b.yaml')}a:\n${S}`,
      'b.yaml': `b:\n${S}  run: echo \${{ONLY_HERE}}\n`,
    },
    message: /ONLY_HERE/,
    file: 'b.yaml',
    line: 4,
  },
  {
    name: 'a --substitute without "="',
    files: { 'stacker.yaml': `a:\n${S}` },
    substitutions: ['NOVALUE'],
    message: /NOVALUE/,
    file: '',
  },
  {
    name: 'a stacker file that is not there',
    files: { 'other.yaml': `a:\n${S}` },
    message: /stacker\.yaml/,
    file: 'stacker.yaml',
  },
  {
    name: 'a 20 MB stacker file broken on its last line',
    files: {
      'stacker.yaml': `a:\n${S}  run: |\n${'    echo filler line\n'.repeat(1_000_000)}  runn: x\n`,
    },
    message: /unknown directive runn/,
    file: 'stacker.yaml',
    line: 1_000_005,
  },
];

for (const c of cases) {
  test(`build: ${c.name} is a located error and creates nothing`, async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, c.files);
    const err = await errorOf(
      build({
        stackerFiles: [c.entry ?? 'stacker.yaml'],
        cwd: dir,
        log: memoryLogger(),
        substitutions: c.substitutions,
        env: {},
      }),
    );
    assert.match(err.message, c.message);
    if (c.file) assert.equal(err.where.file, join(dir, c.file), err.format());
    if (c.line !== undefined) assert.equal(err.where.line, c.line, err.format());
    for (const d of ['roots', 'oci', '.stacker']) assert.ok(!existsSync(join(dir, d)), d);
  });
}

test('the CLI shows a build-level error with its place and no stack trace', async (t) => {
  // A user other than root enters a user namespace before reading any file, which needs
  // subordinate ids this machine may not grant (rootless.int.test.ts covers that path).
  if (process.geteuid?.() !== 0) return t.skip('as a user, build first enters a user namespace');
  const dir = tempDir(t);
  writeFiles(dir, cases[0]!.files);
  const r = runCli(['build'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*c\/stacker\.yaml:3:\d+: .*prerequisites make a cycle/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a stacker file that is a directory or unreadable is a located error', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'stacker.yaml/x': '' });
  await assert.rejects(
    build({ stackerFiles: ['stacker.yaml'], cwd: dir, log: memoryLogger(), env: {} }),
    (err: unknown) => err instanceof StackerError && err.where.file === join(dir, 'stacker.yaml'),
  );
  writeFileSync(join(dir, 'b.yaml'), `${prereq('stacker.yaml')}b:\n${S}`);
  await assert.rejects(
    build({ stackerFiles: ['b.yaml'], cwd: dir, log: memoryLogger(), env: {} }),
    (err: unknown) => err instanceof StackerError && /stacker\.yaml/.test(err.message),
  );
});
