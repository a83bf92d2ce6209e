import assert from 'node:assert/strict';
import { chmodSync, cpSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type KeyParts, layerKey, missReason } from '../../src/cache/key';
import { StackerError } from '../../src/errors';
import { stageImports } from '../../src/imports';
import { overlayDirDigests } from '../../src/imports/overlay-dirs';
import { silentLogger } from '../../src/log';
import type { OverlayDir } from '../../src/parse/types';
import { makeLayer } from '../layer-fixture';
import { listTree, tempDir, writeTree } from './helpers';

const withDirs = (root: string, overlayDirs: OverlayDir[]) =>
  makeLayer({ file: join(root, 'stacker.yaml'), overlayDirs });

const digestOf = (root: string, source: string) =>
  overlayDirDigests(withDirs(root, [{ source, dest: '/' }]))?.[0]?.digest;

test('an overlay dir digest follows content and modes, not times or where it lives', (t) => {
  const root = tempDir(t);
  writeTree(root, { 'a/x': 'X', 'a/sub/y': 'Y' });
  const first = digestOf(root, join(root, 'a'));
  assert.match(first ?? '', /^sha256:[0-9a-f]{64}$/);

  cpSync(join(root, 'a'), join(root, 'copy'), { recursive: true });
  utimesSync(join(root, 'copy/x'), 1, 1);
  assert.equal(digestOf(root, join(root, 'copy')), first, 'same content elsewhere, other mtime');

  writeFileSync(join(root, 'a/x'), 'changed');
  const changed = digestOf(root, join(root, 'a'));
  assert.notEqual(changed, first);
  chmodSync(join(root, 'a/x'), 0o600);
  assert.notEqual(digestOf(root, join(root, 'a')), changed, 'a mode change counts');
});

test('a layer without overlay dirs has no overlay digests, so its key is unchanged', () => {
  const parts: KeyParts = {
    definition: 'd',
    base: 'b',
    imports: [],
    sourceDateEpoch: null,
    settings: 's',
  };
  assert.equal(overlayDirDigests(makeLayer()), undefined);
  assert.equal(layerKey({ ...parts, overlayDirs: undefined }), layerKey(parts));

  const one = { ...parts, overlayDirs: [{ source: '/w/files', digest: 'sha256:1' }] };
  const two = { ...parts, overlayDirs: [{ source: '/w/files', digest: 'sha256:2' }] };
  assert.notEqual(layerKey(one), layerKey(parts));
  assert.notEqual(layerKey(one), layerKey(two));
  assert.equal(missReason(one, two), 'content of overlay_dir /w/files changed');
  assert.equal(missReason(parts, one), 'new overlay_dir /w/files');
});

test('a missing source is a located error in stacker words', (t) => {
  const root = tempDir(t);
  const layer = withDirs(root, [
    { source: join(root, 'nope'), dest: '/', pos: { line: 9, column: 7 } },
  ]);
  assert.throws(
    () => overlayDirDigests(layer),
    (err: unknown) => {
      assert.ok(err instanceof StackerError);
      assert.equal(err.message, `Given overlay_dir ${join(root, 'nope')} doesn't exist`);
      assert.deepEqual(err.where, {
        file: join(root, 'stacker.yaml'),
        line: 9,
        column: 7,
        layer: 'app',
        directive: 'overlay_dirs',
      });
      return true;
    },
  );
});

test('a file as source is refused; a symlink to a directory is its directory', (t) => {
  const root = tempDir(t);
  writeTree(root, { f: 'F', 'd/x': 'X' });
  assert.throws(
    () => overlayDirDigests(withDirs(root, [{ source: join(root, 'f'), dest: '/' }])),
    /Given overlay_dir .*\/f should be a directory/,
  );
  symlinkSync('d', join(root, 'link'));
  assert.equal(digestOf(root, join(root, 'link')), digestOf(root, join(root, 'd')));
});

test('staging lays each overlay dir out at its dest, before the dest imports', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'app/bin/run': '#!/bin/sh\n', 'etc/motd': 'hi', 'f.conf': 'C' });
  chmodSync(join(root, 'app/bin/run'), 0o755);
  symlinkSync('bin/run', join(root, 'app/start'));
  const layer = makeLayer({
    file: join(root, 'stacker.yaml'),
    overlayDirs: [
      { source: join(root, 'app'), dest: 'opt/app' },
      { source: join(root, 'etc'), dest: '/' },
    ],
    imports: [{ path: join(root, 'f.conf'), dest: '/etc/f.conf' }],
  });

  const staged = await stageImports({ layer, stackerDir: join(root, 'sd'), log: silentLogger });

  const trees = staged.overlayDirs.map((o) => listTree(o.source));
  assert.deepEqual(trees, [
    [
      'opt/ dir 0755',
      'opt/app/ dir 0755',
      'opt/app/bin/ dir 0755',
      'opt/app/bin/run file 0755 #!/bin/sh\n',
      'opt/app/start link bin/run',
    ],
    ['motd file 0644 hi'],
    ['etc/ dir 0755', 'etc/f.conf file 0644 C'],
  ]);
});
