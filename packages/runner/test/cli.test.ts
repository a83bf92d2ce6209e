// The runner's command-line contract, as far as it holds without root: modes, usage, the
// single error line with exit 125, and refusals that happen before anything is touched.
// (Containers, mounts and device nodes are tested as root in packages/engine/test/native.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const { runnerPath } = require('../index.js') as { runnerPath: string };

const notBuilt =
  existsSync(runnerPath) || process.env.CI === 'true'
    ? false
    : `${runnerPath} is not built (make -C packages/runner)`;

function runner(args: string[], input?: Buffer) {
  const result = spawnSync(runnerPath, args, { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** NUL-terminated fields, as `fsops` reads them. */
function fields(...values: string[]): Buffer {
  return Buffer.from(values.map((v) => `${v}\0`).join(''));
}

/** Asserts the one-line failure format and returns the text after the prefix. */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line expected, got: ${stderr}`);
  assert.match(lines[0]!, /^nx-stacker-runner: error: /);
  return lines[0]!.slice('nx-stacker-runner: error: '.length);
}

describe('nx-stacker-runner', { skip: notBuilt }, () => {
  const base = mkdtempSync(join(tmpdir(), 'nxs-cli-'));
  after(() => rmSync(base, { recursive: true, force: true }));

  test('without a mode, prints the usage and exits 2', () => {
    const result = runner([]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^usage:/);
  });

  test('with an unknown mode, names it, prints the usage and exits 2', () => {
    const result = runner(['spawn']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown mode 'spawn'/);
    assert.match(result.stderr, /nx-stacker-runner xattrs ROOT/);
  });

  test('run without a command after -- fails with one error line and exit 125', () => {
    const result = runner(['run', '--name', 'x', '--rootfs', '/r']);
    assert.equal(result.status, 125);
    assert.match(errorLine(result.stderr), /no command given after '--'/);
  });

  test('run with an unknown option names it', () => {
    const result = runner(['run', '--nmae', 'x', '--', 'true']);
    assert.equal(result.status, 125);
    assert.equal(errorLine(result.stderr), 'run: option --nmae: unknown option (see usage)');
  });

  test('run refuses a lower dir whose path holds a comma', () => {
    const lower = join(base, 'a,b');
    mkdirSync(lower);
    const args = ['run', '--name', 'x', '--lxcpath', base, '--config', '/dev/null'];
    args.push('--rootfs', base, '--upper', join(base, 'u'), '--work', join(base, 'w'));
    const result = runner([...args, '--lower', lower, '--', 'true']);
    assert.equal(result.status, 125);
    assert.match(errorLine(result.stderr), /overlay lower '.*a,b': .*cannot contain ':', ','/);
  });

  test('fsops refuses an absolute path before writing anything', () => {
    const root = mkdtempSync(join(base, 'fsops-'));
    const input = fields('mknod', 'ok', '0', 'p', '0', '0', 'mknod', '/etc/x', '0', 'p', '0', '0');
    const result = runner(['fsops', root], input);
    assert.equal(result.status, 125);
    assert.equal(errorLine(result.stderr), "fsops: path '/etc/x': absolute paths are refused");
    assert.deepEqual(readdirSync(root), []);
  });

  test('fsops refuses input that ends inside an operation', () => {
    const root = mkdtempSync(join(base, 'fsops-'));
    const result = runner(['fsops', root], fields('setxattr', 'a', 'user.x'));
    assert.equal(result.status, 125);
    assert.match(errorLine(result.stderr), /input ends inside an operation/);
  });

  test('error lines stay one line when a path holds a newline', () => {
    const root = mkdtempSync(join(base, 'fsops-'));
    const result = runner(['fsops', root], fields('mknod', 'a/../\nb', '0', 'p', '0', '0'));
    assert.equal(result.status, 125);
    assert.match(errorLine(result.stderr), /path 'a\/\.\.\/\\x0ab'/);
  });

  test('userns without a command after -- fails with one error line and exit 125', () => {
    const result = runner(['userns', 'u', '0', '1000', '1', 'g', '0', '1000', '1']);
    assert.equal(result.status, 125);
    assert.equal(errorLine(result.stderr), "userns: parse arguments: no command given after '--'");
  });

  test('userns refuses a map value that is not a number, naming it', () => {
    const result = runner(['userns', 'u', '0', '-5', '1', 'g', '0', '0', '1', '--', 'true']);
    assert.equal(result.status, 125);
    assert.equal(errorLine(result.stderr), "userns: map value '-5': not a valid id or count");
  });

  test('userns needs both a uid and a gid map', () => {
    const result = runner(['userns', 'u', '0', '1000', '1', '--', 'true']);
    assert.equal(result.status, 125);
    assert.match(errorLine(result.stderr), /at least one u and one g map are required/);
  });

  test('userns refuses anything but u and g maps', () => {
    const result = runner(['userns', 'x', '0', '1000', '1', '--', 'true']);
    assert.equal(result.status, 125);
    assert.match(errorLine(result.stderr), /argument 'x': expected u or g followed by NSID/);
  });

  test('xattrs with an unknown flag prints its usage and exits 2', () => {
    const result = runner(['xattrs', base, '--strip']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /usage: nx-stacker-runner xattrs ROOT \[--strip-overlay\]/);
  });
});
