import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cli } from './helpers';

const COMMANDS = [
  'build',
  'recursive-build',
  'chroot',
  'exec',
  'grab',
  'inspect',
  'clean',
  'gc',
  'check',
  'convert',
];

describe('usage', () => {
  test('without arguments, prints the help listing every command, and exits 0', () => {
    const r = cli([], tmpdir());
    assert.equal(r.status, 0);
    for (const name of COMMANDS.filter((c) => c !== 'exec')) {
      assert.match(r.stdout, new RegExp(`^ {3}${name}[ ,]`, 'm'), name);
    }
  });

  test("an unknown command is stacker's error followed by the usage, exit status 2", () => {
    const r = cli(['frobnicate'], tmpdir());
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: No help topic for 'frobnicate'\n\nNAME:\n {3}nx-stacker - /);
    assert.match(r.stderr, /COMMANDS:/);
  });

  for (const command of COMMANDS) {
    test(`${command}: help ${command} and ${command} --help print its usage`, () => {
      const viaHelp = cli(['help', command], tmpdir());
      const viaFlag = cli([command, '--help'], tmpdir());
      assert.equal(viaHelp.status, 0);
      assert.equal(viaFlag.status, 0);
      const name = command === 'exec' ? 'chroot' : command;
      assert.match(viaHelp.stdout, new RegExp(`^ {3}nx-stacker ${name} - `, 'm'));
      assert.equal(viaFlag.stdout, viaHelp.stdout);
    });

    test(`${command}: an unknown flag names it and prints the command's usage, exit 2`, () => {
      const r = cli([command, '--no-such-flag'], tmpdir());
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^error: .*'--no-such-flag'/);
      const name = command === 'exec' ? 'chroot' : command;
      assert.match(r.stderr, new RegExp(`^ {3}nx-stacker ${name} `, 'm'));
    });
  }
});

describe('flags that cannot hold', () => {
  // In an empty dir: nothing to build, so only the flags can fail.
  const empty = mkdtempSync(join(tmpdir(), 'nx-stacker-flags-'));
  after(() => rmSync(empty, { recursive: true, force: true }));
  for (const command of ['build', 'recursive-build']) {
    test(`${command}: --shell-fail with another --on-run-failure is refused`, () => {
      const r = cli([command, '--shell-fail', '--on-run-failure', '/bin/bash'], empty);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /--shell-fail is incompatible with --on-run-failure=\/bin\/bash/);
    });

    test(`${command}: --gzip-level outside 1..9 is refused before anything is built`, () => {
      const r = cli([command, '--gzip-level', '12'], empty);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /invalid gzip level 12: it is a whole number from 1 to 9/);
    });
  }
});
