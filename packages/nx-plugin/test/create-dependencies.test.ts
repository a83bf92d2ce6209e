import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dependencies, layer, workspace } from './helpers';

const prereq = (path: string) => `config:\n  prerequisites:\n    - ${path}\n`;

test('a prerequisite makes a static edge to its project', async (t) => {
  const root = workspace(t, {
    'base/stacker.yaml': layer('os'),
    'app/stacker.yaml': prereq('../base/stacker.yaml') + layer('app'),
  });
  assert.deepEqual(await dependencies(root, ['base/stacker.yaml', 'app/stacker.yaml']), [
    'app -> base',
  ]);
});

test('built tags and stacker:// imports reach the files defining them, transitively', async (t) => {
  const root = workspace(t, {
    'os/stacker.yaml': layer('os'),
    'base/stacker.yaml': prereq('../os/stacker.yaml') + layer('base', 'type: built\ntag: os'),
    'app/stacker.yaml':
      prereq('../base/stacker.yaml') +
      layer('app', 'type: built\ntag: base', '  imports:\n    - stacker://os/etc/os-release\n'),
  });
  const files = ['os/stacker.yaml', 'base/stacker.yaml', 'app/stacker.yaml'];
  assert.deepEqual(await dependencies(root, files), ['app -> base', 'app -> os', 'base -> os']);
});

test('a local base or import inside another project makes an edge to it', async (t) => {
  const root = workspace(t, {
    'base/project.json': '{"name":"busybox"}',
    'shared/project.json': '{"name":"shared"}',
    'shared/motd': 'hi',
    'app/stacker.yaml': layer(
      'app',
      'type: oci\nurl: ../base/oci:busybox',
      '  imports:\n    - ../shared/motd\n',
    ),
  });
  const extra = [
    { name: 'busybox', root: 'base' },
    { name: 'shared', root: 'shared' },
  ];
  assert.deepEqual(await dependencies(root, ['app/stacker.yaml'], extra), [
    'app -> busybox',
    'app -> shared',
  ]);
});

test('files inside the project itself make no edge', async (t) => {
  const root = workspace(t, {
    'app/stacker.yaml': layer('a') + layer('b', 'type: built\ntag: a', '  imports:\n    - motd\n'),
    'app/motd': 'hi',
  });
  assert.deepEqual(await dependencies(root, ['app/stacker.yaml']), []);
});

test('a broken file adds no edges and does not stop the others', async (t) => {
  const root = workspace(t, {
    'base/stacker.yaml': layer('os'),
    'bad/stacker.yaml': `${prereq('../base/stacker.yaml')}x: [\n`,
    'app/stacker.yaml': prereq('../base/stacker.yaml') + layer('app'),
  });
  const files = ['base/stacker.yaml', 'bad/stacker.yaml', 'app/stacker.yaml'];
  assert.deepEqual(await dependencies(root, files), ['app -> base']);
});
