import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { cli, cliBin, rootSkip } from './helpers';

const { runnerPath } = require('@nx-stacker/runner') as { runnerPath: string };

function temp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('nx-stacker check', { skip: rootSkip() }, () => {
  test('on a good host, every check passes and says what it found', (t) => {
    const dir = temp(t);
    const r = cli(['check'], dir);
    assert.equal(r.status, 0, r.stderr);
    const lxc = execFileSync(runnerPath, ['version'], { encoding: 'utf8' }).trim();
    for (const line of [
      /^kernel: Linux \S+/m,
      /^ok: running as root$/m,
      /^ok: roots dir .*\/roots is on \S+$/m,
      new RegExp(`^ok: ${lxc.replace(/\./g, '\\.')}$`, 'm'),
      /^ok: overlay whiteouts \(0:0 character devices\) can be created in /m,
      /^ok: overlayfs \(userxattr\) mounts in .* and liblxc starts containers on it$/m,
    ]) {
      assert.match(r.stderr, line);
    }
    assert.doesNotMatch(r.stderr, /problem:/);
  });

  test('a roots dir on overlayfs is a problem, with what to do', (t) => {
    const dir = temp(t);
    for (const d of ['l', 'u', 'w', 'm']) mkdirSync(join(dir, d));
    const overlay = `lowerdir=${dir}/l,upperdir=${dir}/u,workdir=${dir}/w`;
    const script = `mount -t overlay overlay -o ${overlay} ${dir}/m && exec "$@"`;
    const args = [process.execPath, cliBin, '--roots-dir', `${dir}/m/roots`, 'check'];
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^problem: can't create overlay whiteout on underlying overlayfs in /m);
    assert.match(r.stderr, /^ {2}hint: overlayfs cannot stack on overlayfs/m);
    assert.match(r.stderr, /error: check found 1 problem/);
  });

  test('a roots dir reached through a symlink is a problem naming the real path', (t) => {
    const dir = temp(t);
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    const r = cli(['--roots-dir', 'link/roots', 'check'], dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`roots dir \\(--roots-dir\\) path uses symbolic links, use "${dir}/real/roots"`),
    );
  });

  test('without root or subordinate ids, says how to build rootless and what was unchecked', (t) => {
    const dir = temp(t);
    chmodSync(dir, 0o777);
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliBin, 'check'],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^ok: running as uid 65534: builds run rootless, in a user namespace/m);
    assert.match(r.stderr, /^problem: \/etc\/subuid .*nobody.* no subordinate ids/m);
    assert.match(r.stderr, /^ {2}hint: as root: nx-stacker unpriv-setup --username nobody /m);
    assert.match(r.stderr, /^problem: whiteouts, overlay mounts and containers .* not checked/m);
  });
});
