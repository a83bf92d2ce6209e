// The rootless prerequisites `nx-stacker check` reports, on files made for each case.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  checkIdMapTool,
  checkSubordinateIds,
  checkUnprivilegedUserns,
  findOnPath,
} from '../../src/check/rootless';

describe('rootless prerequisites', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nxs-rootless-check-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const user = { uid: 1001, gid: 1001, name: 'alice' };

  /** A fake /proc/sys with the given settings (key with dots -> value). */
  function procSys(name: string, settings: Record<string, string>): string {
    const root = join(dir, name);
    for (const [key, value] of Object.entries(settings)) {
      const parts = key.split('.');
      mkdirSync(join(root, ...parts.slice(0, -1)), { recursive: true });
      writeFileSync(join(root, ...parts), `${value}\n`);
    }
    return root;
  }

  test('user namespaces are reported enabled when every setting allows them', () => {
    const root = procSys('on', {
      'user.max_user_namespaces': '15000',
      'kernel.unprivileged_userns_clone': '1',
    });
    assert.deepEqual(checkUnprivilegedUserns(root), {
      ok: true,
      message: 'unprivileged user namespaces are enabled',
    });
  });

  test("Debian's unprivileged_userns_clone = 0 is a problem with the sysctl that fixes it", () => {
    const root = procSys('debian-off', { 'kernel.unprivileged_userns_clone': '0' });
    const item = checkUnprivilegedUserns(root);
    assert.equal(item.ok, false);
    assert.match(item.message, /disabled \(kernel\.unprivileged_userns_clone = 0\)/);
    assert.match(item.hint ?? '', /sysctl -w kernel\.unprivileged_userns_clone=1/);
  });

  test("Ubuntu's AppArmor restriction is a problem too", () => {
    const root = procSys('ubuntu', { 'kernel.apparmor_restrict_unprivileged_userns': '1' });
    assert.match(checkUnprivilegedUserns(root).hint ?? '', /apparmor_restrict.*=0/);
  });

  test('subordinate ids: none is a problem that names unpriv-setup with the ids', () => {
    const file = join(dir, 'subuid-none');
    writeFileSync(file, 'bob:100000:65536\n');
    const item = checkSubordinateIds(user, file);
    assert.equal(item.ok, false);
    assert.equal(item.message, `${file} grants alice no subordinate ids`);
    assert.match(item.hint ?? '', /unpriv-setup --username alice --uid 1001 --gid 1001/);
  });

  test('subordinate ids: fewer than 65536 is a problem, a full range is fine', () => {
    const small = join(dir, 'subuid-small');
    writeFileSync(small, 'alice:100000:1000\n');
    assert.match(checkSubordinateIds(user, small).message, /only 1000 subordinate ids/);
    const full = join(dir, 'subuid-full');
    writeFileSync(full, '1001:100000:65536\n');
    assert.deepEqual(checkSubordinateIds(user, full), {
      ok: true,
      message: `${full} grants alice 65536 subordinate ids`,
    });
  });

  test('newuidmap missing from PATH is a problem saying what to install', async () => {
    const saved = process.env.PATH;
    process.env.PATH = join(dir, 'empty-path');
    try {
      const item = await checkIdMapTool('newuidmap');
      assert.equal(item.message, 'newuidmap not found in path');
      assert.match(item.hint ?? '', /apt-get install uidmap/);
    } finally {
      process.env.PATH = saved;
    }
  });

  test('a newgidmap that is neither setuid nor capable is a problem', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'newgidmap'), '#!/bin/sh\n');
    chmodSync(join(bin, 'newgidmap'), 0o755);
    assert.equal(findOnPath('newgidmap', `/nonexistent:${bin}`), join(bin, 'newgidmap'));
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      const item = await checkIdMapTool('newgidmap');
      assert.match(item.message, /newgidmap does not have either setuid-root or security caps$/);
      assert.match(item.hint ?? '', /chmod u\+s .*setcap cap_setgid\+ep/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
