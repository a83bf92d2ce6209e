import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildIn,
  errorOf,
  fromBusybox,
  projectDir,
  requireRoot,
  skopeoConfig,
  skopeoManifest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';
import { layerEntries } from './helpers';

test('overlay dirs: layers below the diff, before dest imports, seen by run', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'app/bin/hello': '#!/bin/sh\necho hello\n',
    'app/share/doc.txt': 'doc\n',
    'etc-files/etc/motd': 'welcome\n',
    'extra.conf': 'extra\n',
    'stacker.yaml': `
l:
${await fromBusybox()}
  overlay_dirs:
    - source: app
      dest: /opt/app
    - source: etc-files
  imports:
    - path: extra.conf
      dest: /etc/extra.conf
  run: |
    cat /opt/app/share/doc.txt /etc/motd > /seen
    /opt/app/bin/hello >> /seen
`,
  });
  chmodSync(join(dir, 'app/bin/hello'), 0o750);
  symlinkSync('share/doc.txt', join(dir, 'app/doc-link'));
  // A developer's uid on the host must not reach the image.
  chownSync(join(dir, 'app/share/doc.txt'), 1234, 1234);

  const { summary, oci } = await buildIn(dir);
  assert.equal(summary.layers[0]?.status, 'built');

  // Layers: busybox, the two overlay dirs in order, the dest import, the run step's diff.
  const config = skopeoConfig(oci, 'l');
  assert.deepEqual(
    config.history?.slice(1, 5).map((h) => h.created_by),
    [
      'stacker overlay dir for l',
      'stacker overlay dir for l',
      'stacker overlay dir for l',
      'stacker build of l',
    ],
  );
  assert.deepEqual(layerEntries(oci, 'l', 1), [
    'opt',
    'opt/app',
    'opt/app/bin',
    'opt/app/bin/hello',
    'opt/app/doc-link',
    'opt/app/share',
    'opt/app/share/doc.txt',
  ]);
  assert.deepEqual(layerEntries(oci, 'l', 2), ['etc', 'etc/motd']);
  assert.deepEqual(layerEntries(oci, 'l', 3), ['etc', 'etc/extra.conf']);
  assert.deepEqual(layerEntries(oci, 'l', 4), ['seen']);

  // Content, modes and links kept; everything owned by root.
  const rootfs = umociUnpack(t, oci, 'l');
  assert.equal(readFileSync(join(rootfs, 'seen'), 'utf8'), 'doc\nwelcome\nhello\n');
  assert.equal(statSync(join(rootfs, 'opt/app/bin/hello')).mode & 0o7777, 0o750);
  assert.equal(readlinkSync(join(rootfs, 'opt/app/doc-link')), 'share/doc.txt');
  const doc = statSync(join(rootfs, 'opt/app/share/doc.txt'));
  assert.deepEqual([doc.uid, doc.gid], [0, 0]);
  assert.equal(statSync(join(rootfs, 'opt/app')).mode & 0o7777, 0o755);
});

test('a changed file in an overlay dir rebuilds the layer, unchanged ones reuse it', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'content/data.txt': 'one\n',
    'stacker.yaml': `
l:
${await fromBusybox()}
  overlay_dirs:
    - source: content
      dest: /data
`,
  });
  await buildIn(dir);
  const again = await buildIn(dir);
  assert.equal(again.summary.layers[0]?.status, 'reused');

  writeFileSync(join(dir, 'content/data.txt'), 'two\n');
  const changed = await buildIn(dir);
  assert.equal(changed.summary.layers[0]?.status, 'built');
  assert.match(changed.log.text(), /l: building \(content of overlay_dir .*content changed\)/);
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'l');
  assert.equal(readFileSync(join(rootfs, 'data/data.txt'), 'utf8'), 'two\n');

  // A new file counts as a change too.
  writeFileSync(join(dir, 'content/new.txt'), 'new\n');
  assert.equal((await buildIn(dir)).summary.layers[0]?.status, 'built');
});

test("a dest through a base's symlink lands where the link points; the link stays", async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'modules/m.ko': 'module\n',
    'lib.conf': 'conf\n',
    'stacker.yaml': `
merged:
${await fromBusybox()}
  run: mkdir -p /usr/lib && ln -s usr/lib /lib
child:
  from:
    type: built
    tag: merged
  overlay_dirs:
    - source: modules
      dest: /lib/modules
  imports:
    - path: lib.conf
      dest: /lib/lib.conf
`,
  });
  const { log, oci } = await buildIn(dir);
  assert.match(
    log.text(),
    /overlay dest \/lib\/modules is a symlink in the base, using \/usr\/lib/,
  );

  const count = skopeoManifest(oci, 'child').layers.length;
  assert.deepEqual(layerEntries(oci, 'child', count - 2), [
    'usr',
    'usr/lib',
    'usr/lib/modules',
    'usr/lib/modules/m.ko',
  ]);
  assert.deepEqual(layerEntries(oci, 'child', count - 1), ['usr', 'usr/lib', 'usr/lib/lib.conf']);
  const rootfs = umociUnpack(t, oci, 'child');
  assert.ok(lstatSync(join(rootfs, 'lib')).isSymbolicLink());
  assert.equal(readFileSync(join(rootfs, 'lib/modules/m.ko'), 'utf8'), 'module\n');
  assert.equal(readFileSync(join(rootfs, 'lib/lib.conf'), 'utf8'), 'conf\n');
});

test('a missing or non-directory overlay dir source fails, located at its entry', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const from = await fromBusybox();
  const write = (source: string) =>
    writeFiles(dir, {
      'stacker.yaml': `
l:
${from}
  overlay_dirs:
    - source: ${source}
`,
    });

  writeFileSync(join(dir, 'file.txt'), 'x');
  write('missing');
  const missing = await errorOf(buildIn(dir));
  assert.match(missing.message, /^Given overlay_dir .*\/missing doesn't exist$/);
  assert.deepEqual(
    [missing.where.file, missing.where.line, missing.where.layer, missing.where.directive],
    [join(dir, 'stacker.yaml'), 7, 'l', 'overlay_dirs'],
  );

  write('file.txt');
  const file = await errorOf(buildIn(dir));
  assert.match(file.message, /^Given overlay_dir .*\/file\.txt should be a directory$/);
  assert.equal(file.where.line, 7);
});
