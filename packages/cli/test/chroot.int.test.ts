import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountsUnder, writeFiles } from '../../engine/test/helpers';
import {
  cli,
  cliBin,
  cliInBackground,
  rootSkip,
  snapshotsIn,
  writeLayeredProject,
} from './helpers';

describe('nx-stacker chroot', { skip: rootSkip() }, () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-stacker-chroot-'));
    await writeLayeredProject(dir);
    const r = cli(['build'], dir);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs what stdin says in the first layer, with its imports and build environment', () => {
    const script =
      'cat /etc/hostname /hello.txt; echo "$GREETING-$STACKER_LAYER_NAME"; ls /stacker/imports';
    const r = cli(['chroot'], dir, `${script}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'stacker\nhello from the host\nhi-base\nhello.txt\n');
    assert.match(
      r.stderr,
      /This chroot is temporary, any changes will be destroyed when it exits\./,
    );
  });

  test('exits with the status of the command', () => {
    const r = cli(['chroot', 'app', 'sh', '-c', 'cat /app; exit 7'], dir);
    assert.equal(r.status, 7, r.stderr);
    assert.equal(r.stdout, 'app\n');
  });

  test('a single command argument is split into words like a shell would', () => {
    const r = cli(['chroot', 'app', 'cat /app /tools'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'app\ntools\n');
  });

  test('changes are discarded, and no snapshot or mount is left behind', () => {
    assert.equal(cli(['chroot', 'app', 'touch', '/scratch-file'], dir).status, 0);
    const again = cli(['chroot', 'app', 'test', '-e', '/scratch-file'], dir);
    assert.equal(again.status, 1, 'the file made by the previous chroot is gone');
    assert.deepEqual(snapshotsIn(join(dir, 'roots')), []);
    assert.deepEqual(mountsUnder(dir), []);
  });

  test('a build_only layer can be entered (through the build cache), also as exec', () => {
    const r = cli(['exec', 'tools', 'cat', '/tools'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'tools\n');
  });

  test('a layer the stacker file does not define is an error naming the layers it has', () => {
    const r = cli(['chroot', 'nope'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: .*stacker\.yaml: no layer nope in stackerfile/);
    assert.match(r.stderr, /hint: layers in .*stacker\.yaml: base, tools, app/);
  });

  test('a layer that was never built is an error naming the layers that were', (t) => {
    const other = mkdtempSync(join(tmpdir(), 'nx-stacker-chroot-'));
    t.after(() => rmSync(other, { recursive: true, force: true }));
    writeFiles(other, { 'stacker.yaml': 'later:\n  from:\n    type: scratch\n' });
    const r = cli(
      ['--oci-dir', join(dir, 'oci'), '--stacker-dir', join(dir, '.stacker'), 'chroot'],
      other,
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /layer later has not been built/);
    assert.match(r.stderr, /hint: built layers: app, base, tools/);
  });

  test('without a stacker file, the named layer is entered as a best effort', (t) => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
    const dirs = ['--roots-dir', '../roots', '--oci-dir', '../oci', '--stacker-dir', '../.stacker'];
    const r = cli([...dirs, 'chroot', 'app'], elsewhere, 'cat /app; echo "[$GREETING]"\n');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /couldn't find stacker file, chrooting to app as best effort/);
    assert.equal(r.stdout, 'app\n[]\n', 'no layer environment without the file');
  });

  test('an interactive shell gets a terminal and its exit status is ours', {
    timeout: 30_000,
  }, async () => {
    // script(1) gives the CLI a pseudo-terminal; input is typed once the prompt shows, since
    // LXC flushes what was typed before it set the terminal up.
    const child = spawn(
      'script',
      ['-qec', `${process.execPath} ${cliBin} chroot app`, '/dev/null'],
      {
        cwd: dir,
      },
    );
    let output = '';
    let typed = false;
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (!typed && output.includes('# ')) {
        typed = true;
        child.stdin.write('tty; echo "x$((40 + 2))"; exit 5\n');
      }
    });
    const status = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(status, 5, output);
    assert.match(output, /^\/dev\/(pts\/\d+|console)\r?$/m, 'the shell runs on a terminal');
    assert.match(output, /^x42\r?$/m);
  });

  test('an interrupted chroot removes its snapshot', async () => {
    const { child, exited } = await cliInBackground(
      ['chroot', 'app', 'sleep', '30'],
      dir,
      /temporary/,
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 130);
    assert.deepEqual(snapshotsIn(join(dir, 'roots')), []);
  });

  test('an unknown flag prints the chroot usage', () => {
    const r = cli(['chroot', '--frobnicate'], dir);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--frobnicate/);
    assert.match(r.stderr, /nx-stacker chroot \[command options\] \[tag \[cmd/);
  });
});
