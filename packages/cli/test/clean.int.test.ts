import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { writeFiles } from '../../engine/test/helpers';
import { cli, cliBin, cliInBackground, rootSkip, writeLayeredProject } from './helpers';

/** A built project in a fresh temp dir. */
async function builtProject(t: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-clean-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeLayeredProject(dir);
  const r = cli(['build'], dir);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const storageDirs = ['roots', 'oci', '.stacker'];

describe('nx-stacker clean', { skip: rootSkip() }, () => {
  test('deletes the roots, OCI and stacker dirs, and accepts --all', async (t) => {
    const dir = await builtProject(t);
    const r = cli(['clean', '--all'], dir);
    assert.equal(r.status, 0, r.stderr);
    for (const d of storageDirs) assert.ok(!existsSync(join(dir, d)), `${d} deleted`);
    assert.ok(existsSync(join(dir, 'stacker.yaml')), 'the project itself stays');
  });

  test('with nothing to delete, succeeds', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-clean-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    assert.equal(cli(['clean'], dir).status, 0);
  });

  test('refuses while another nx-stacker process uses the dirs, naming it', async (t) => {
    const dir = await builtProject(t);
    const { child, exited } = await cliInBackground(
      ['chroot', 'app', 'sleep', '30'],
      dir,
      /temporary/,
    );
    try {
      const r = cli(['clean'], dir);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(`process ${child.pid} \\(.*chroot app sleep 30\\) is using`),
      );
      for (const d of storageDirs) assert.ok(existsSync(join(dir, d)), `${d} kept`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('leaves a roots dir with something mounted in it, cleans the rest, and fails', async (t) => {
    const dir = await builtProject(t);
    mkdirSync(join(dir, 'roots/mnt'));
    writeFiles(dir, { 'roots/mnt/precious': 'x' });
    const script = `mount -t tmpfs none roots/mnt && echo kept > roots/mnt/precious && exec "$@"`;
    const r = spawnSync(
      'unshare',
      ['-m', 'sh', '-c', script, 'sh', process.execPath, cliBin, 'clean'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /problem cleaning roots .*roots: .*roots\/mnt is mounted/);
    assert.match(r.stderr, /error: cleaning failed/);
    assert.ok(existsSync(join(dir, 'roots/mnt/precious')), 'the roots dir is untouched');
    assert.ok(!existsSync(join(dir, 'oci')) && !existsSync(join(dir, '.stacker')));
  });

  test('an unknown flag prints the clean usage', () => {
    const r = cli(['clean', '--everything'], tmpdir());
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--everything/);
    assert.match(r.stderr, /nx-stacker clean \[command options\]/);
  });
});
