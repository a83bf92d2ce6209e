// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are stacker placeholders
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSubstitutions, substitute } from '../../src/parse';
import { assertError, parse, parseError, stackerError, tempDir, writeFile } from './helpers';

const FILE = '/work/stacker.yaml';

test('replaces ${{KEY}} with the value given for KEY', () => {
  assert.equal(substitute('v: ${{VERSION}}\n', ['VERSION=1.2']), 'v: 1.2\n');
});

test('the first entry for a key wins', () => {
  assert.equal(substitute('${{A}}', ['A=first', 'A=second']), 'first');
});

test('a value may be empty and may contain "="', () => {
  assert.equal(substitute('[${{A}}][${{B}}]', ['A=', 'B=x=y']), '[][x=y]');
});

test('${{KEY:default}} uses the default when KEY has no value', () => {
  assert.equal(substitute('${{TAG:latest}}', []), 'latest');
});

test('a given value beats the default', () => {
  assert.equal(substitute('${{TAG:latest}}', ['TAG=3.20']), '3.20');
});

test('${{KEY:}} defaults to the empty string', () => {
  assert.equal(substitute('a${{X:}}b', []), 'ab');
});

test('a default keeps everything after the first colon', () => {
  assert.equal(substitute('${{URL:docker://x:1}}', []), 'docker://x:1');
});

test('a default may hold placeholders, resolved first (as in real stacker files)', () => {
  const url = 'url: ${{INPUT:oci:${{STACKER_OCI_DIR}}:bootkit}}';
  assert.equal(substitute(url, ['STACKER_OCI_DIR=/w/oci']), 'url: oci:/w/oci:bootkit');
  assert.equal(
    substitute(url, ['INPUT=docker://r/x', 'STACKER_OCI_DIR=/w/oci']),
    'url: docker://r/x',
  );
  assert.equal(substitute('${{A:${{B:${{C:deep}}}}}}', []), 'deep');
  const err = stackerError(() => substitute('x: ${{A:${{B}}}}', [], { file: FILE }));
  assertError(err, { message: /no value for substitution B/, line: 1, column: 9 });
});

test('text that only looks like a placeholder is left as written', () => {
  for (const text of ['${{A:x}y}}', '${{A', '${{A:${{B}}', 'cost: $${{']) {
    assert.equal(substitute(text, ['A=1', 'B=2']), text.includes('${{B}}') ? '${{A:2' : text);
  }
});

test('rejects a placeholder without value or default, at its line and column', () => {
  const err = stackerError(() => substitute('a: 1\nb: x ${{MISSING}}\n', [], { file: FILE }));
  assertError(err, {
    message: 'no value for substitution MISSING',
    file: FILE,
    line: 2,
    column: 6,
    hint: '--substitute MISSING=value',
  });
});

test('matches keys literally: regexp characters in a key are not special', () => {
  const out = substitute('${{A.B}} ${{AxB:none}} ${{C+}}', ['A.B=dot', 'C+=plus']);
  assert.equal(out, 'dot none plus');
});

test('inserts values literally: $1, $& and ${x} in a value are not expanded', () => {
  assert.equal(substitute('${{V}}', ['V=$1 $& ${x} $$']), '$1 $& ${x} $$');
});

test('does not substitute again inside an inserted value', () => {
  assert.equal(substitute('${{A}}', ['A=${{B}}', 'B=b']), '${{B}}');
});

test('substitutes inside YAML comments too, since it works on the raw text', () => {
  assert.equal(substitute('# ${{A}}\n', ['A=x']), '# x\n');
});

test('rejects $KEY for a given key, counting the instances and logging each one', () => {
  const warnings: string[] = [];
  const text = 'run: echo $NAME\nrun2: echo ${NAME} ${NAME:-x}\n';
  const err = stackerError(() =>
    substitute(text, ['NAME=v'], { file: FILE, warn: (m) => warnings.push(m) }),
  );
  assertError(err, {
    message: '3 instances of unsupported placeholders found. Review log for how to update.',
    file: FILE,
    line: 1,
    column: 11,
  });
  assert.deepEqual(warnings, [
    `${FILE}:1:11: "NAME=v" was provided as a substitution and unsupported placeholder "$NAME" ` +
      'was found. Replace "$NAME" with "${{NAME}}" to use the substitution.',
    `${FILE}:2:12: "NAME=v" was provided as a substitution and unsupported placeholder ` +
      '"${NAME}" was found. Replace "${NAME}" with "${{NAME}}" to use the substitution.',
    `${FILE}:2:20: "NAME=v" was provided as a substitution and unsupported placeholder ` +
      '"${NAME:-x}" was found. Replace "${NAME:-x}" with "${{NAME}}" to use the substitution.',
  ]);
});

test('$KEYSUFFIX is not taken for a misuse of KEY', () => {
  assert.equal(substitute('echo $NAMES $NAME_2 ${{NAME}}', ['NAME=v']), 'echo $NAMES $NAME_2 v');
});

test('shell variables that are not substitution keys are left alone', () => {
  assert.equal(substitute('echo $HOME ${PATH}', ['NAME=v']), 'echo $HOME ${PATH}');
});

test('rejects an entry without "=" as "invalid substition", naming the file', () => {
  const err = stackerError(() => substitute('x', ['NOVALUE'], { file: FILE }));
  assertError(err, { message: 'invalid substition NOVALUE', file: FILE, hint: 'KEY=VALUE' });
});

test('rejects an entry with an empty key', () => {
  const err = stackerError(() => substitute('x', ['=v'], { file: FILE }));
  assertError(err, { message: 'invalid substition =v' });
});

test('reports through debug whether each entry was used', () => {
  const debug: string[] = [];
  substitute('${{A}} ${{A}}', ['A=1', 'B=2'], { debug: (m) => debug.push(m) });
  assert.deepEqual(debug, ['substitution A used 2 time(s)', 'substitution B not used']);
});

test('a substituted value can change the YAML structure, as in stacker', (t) => {
  const file = parse(t, 'a:\n  from:\n    type: scratch\n  ${{EXTRA}}\n', {
    substitutions: ['EXTRA=build_only: true'],
  });
  assert.equal(file.layers[0]!.buildOnly, true);
});

test('the StackerFile keeps the text after substitution', (t) => {
  const file = parse(t, 'a:\n  from:\n    type: ${{T}}\n', { substitutions: ['T=scratch'] });
  assert.equal(file.text, 'a:\n  from:\n    type: scratch\n');
});

test('a missing substitution in a stacker file names the file, line and column', (t) => {
  parseError(t, 'a:\n  from:\n    type: ${{T}}\n', {
    message: 'no value for substitution T',
    line: 3,
    column: 11,
  });
});

const DIRS = { stackerDir: '/s', rootsDir: '/r', ociDir: '/o' };

test('buildSubstitutions puts flags first, then file entries, then the built-ins', (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'subs.yaml', 'B: from-file\nA: ignored\nC: 1.0\n');
  const list = buildSubstitutions({ flags: ['A=flag', 'X=a,b'], file, ...DIRS, workDir: '/w' });
  assert.deepEqual(list, [
    'A=flag',
    'X=a,b',
    'B=from-file',
    'C=1.0',
    'STACKER_ROOTFS_DIR=/r',
    'STACKER_STACKER_DIR=/s',
    'STACKER_OCI_DIR=/o',
    'STACKER_WORK_DIR=/w',
  ]);
});

test('buildSubstitutions leaves STACKER_WORK_DIR empty without --work-dir', () => {
  const list = buildSubstitutions({ flags: [], ...DIRS });
  assert.equal(list.at(-1), 'STACKER_WORK_DIR=');
});

test('buildSubstitutions makes the directories absolute', () => {
  const list = buildSubstitutions({ flags: [], stackerDir: 's', rootsDir: 'r', ociDir: 'o' });
  assert.equal(list[2], `STACKER_OCI_DIR=${join(process.cwd(), 'o')}`);
});

test('a --substitute flag overrides a built-in', () => {
  const list = buildSubstitutions({ flags: ['STACKER_OCI_DIR=/mine'], ...DIRS });
  assert.equal(substitute('${{STACKER_OCI_DIR}}', list), '/mine');
});

test('buildSubstitutions rejects an unreadable substitute-file, naming it', (t) => {
  const file = join(tempDir(t), 'missing.yaml');
  const err = stackerError(() => buildSubstitutions({ flags: [], file, ...DIRS }));
  assertError(err, { message: `unable to read substitute-file ${file}`, file });
});

test('buildSubstitutions rejects an unparsable substitute-file at the faulty line', (t) => {
  const file = writeFile(tempDir(t), 's.yaml', 'A: 1\nB: [unclosed\n');
  const err = stackerError(() => buildSubstitutions({ flags: [], file, ...DIRS }));
  assertError(err, { message: `unable to unmarshal substitute-file ${file}`, file, line: 3 });
});

test('buildSubstitutions rejects a substitute-file that is not a map', (t) => {
  const file = writeFile(tempDir(t), 's.yaml', '- A=1\n');
  const err = stackerError(() => buildSubstitutions({ flags: [], file, ...DIRS }));
  assertError(err, { message: 'unable to unmarshal substitute-file', file, line: 1 });
});

test('buildSubstitutions rejects a nested value in the substitute-file', (t) => {
  const file = writeFile(tempDir(t), 's.yaml', 'A:\n  nested: 1\n');
  const err = stackerError(() => buildSubstitutions({ flags: [], file, ...DIRS }));
  assertError(err, { message: "value of 'A' expected a string, found map", file, line: 2 });
});
