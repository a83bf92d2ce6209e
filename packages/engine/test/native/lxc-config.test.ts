// lxcConfigLines: the LXC config of a build container, as text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StackerError } from '../../src/errors';
import { CONTAINER_PATH, lxcConfigLines, mountEntry } from '../../src/native/lxc-config';

const base = { hostname: 'stacker', rootfsMount: '/sd/rootfsPivot', env: [], binds: [] };

describe('lxcConfigLines', () => {
  test("starts with stacker's base config and PATH", () => {
    assert.deepEqual(lxcConfigLines(base), [
      'lxc.uts.name = stacker',
      'lxc.rootfs.mount = /sd/rootfsPivot',
      'lxc.mount.auto = proc:mixed',
      'lxc.autodev = 1',
      'lxc.pty.max = 1024',
      'lxc.mount.entry = none dev/shm tmpfs defaults,create=dir 0 0',
      'lxc.net.0.type = none',
      'lxc.apparmor.profile = unconfined',
      'lxc.apparmor.allow_incomplete = 1',
      'lxc.mount.entry = /sys sys none rbind,create=dir, 0 0',
      'lxc.mount.entry = /etc/resolv.conf etc/resolv.conf none rbind,create=file, 0 0',
      `lxc.environment = PATH=${CONTAINER_PATH}`,
    ]);
  });

  test('adds binds, then the environment in order, then the extra lines', () => {
    const lines = lxcConfigLines({
      ...base,
      env: [
        ['STACKER_LAYER_NAME', 'app'],
        ['PATH', '/bin'],
      ],
      binds: [{ source: '/sd/imports/app', dest: '/stacker/imports', readOnly: true, isDir: true }],
      extra: ['lxc.apparmor.profile = lxc-container-default-cgns'],
    });
    assert.deepEqual(lines.slice(12), [
      'lxc.mount.entry = /sd/imports/app stacker/imports none rbind,create=dir,ro 0 0',
      'lxc.environment = STACKER_LAYER_NAME=app',
      'lxc.environment = PATH=/bin',
      'lxc.apparmor.profile = lxc-container-default-cgns',
    ]);
  });

  test('refuses values that would break a config line', () => {
    assert.throws(
      () => lxcConfigLines({ ...base, env: [['A', 'two\nlines']] }),
      (err: unknown) => err instanceof StackerError && /line break/.test(err.message),
    );
    assert.throws(() => lxcConfigLines({ ...base, env: [['A=B', 'x']] }), /contains '='/);
  });
});

describe('mountEntry', () => {
  test('writes a read-write file bind with the trailing comma stacker writes', () => {
    const entry = mountEntry({
      source: '/etc/hosts',
      dest: '/etc/hosts',
      readOnly: false,
      isDir: false,
    });
    assert.equal(entry, '/etc/hosts etc/hosts none rbind,create=file, 0 0');
  });

  test('octal-escapes spaces, tabs and backslashes as fstab wants', () => {
    const entry = mountEntry({ source: '/a b', dest: '/c\td\\e', readOnly: true, isDir: true });
    assert.equal(entry, '/a\\040b c\\011d\\134e none rbind,create=dir,ro 0 0');
  });

  test('refuses a relative source or the container root as destination', () => {
    assert.throws(() => mountEntry({ source: 'rel', dest: '/x', readOnly: false, isDir: true }));
    assert.throws(() => mountEntry({ source: '/x', dest: '/', readOnly: false, isDir: true }));
  });
});
