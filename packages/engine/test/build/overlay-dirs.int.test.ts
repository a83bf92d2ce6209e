import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
import { StackerError } from '../../src/errors';
import {
  buildIn,
  busyboxLayout,
  requireRoot,
  skopeoConfig,
  skopeoManifest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';

/** The entry names of one layer blob of `tag`, as GNU tar lists them. */
function layerEntries(oci: string, tag: string, index: number): string[] {
  const digest = skopeoManifest(oci, tag).layers[index]?.digest ?? '';
  const blob = join(oci, 'blobs', 'sha256', digest.replace('sha256:', ''));
  const out = execFileSync('tar', ['-tzf', blob]).toString();
  return out
    .split('\n')
    .map((l) => l.replace(/^\.\//, '').replace(/\/$/, ''))
    .filter((l) => l !== '' && l !== '.');
}

async function errorOf(promise: Promise<unknown>): Promise<StackerError> {
  const err = await promise.then(
    () => assert.fail('build should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StackerError, String(err));
  return err;
}

test('overlay dirs: layers below the diff, before dest imports, seen by run', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'app/bin/hello': '#!/bin/sh\necho hello\n',
    'app/share/doc.txt': 'doc\n',
    'etc-files/etc/motd': 'welcome\n',
    'extra.conf': 'extra\n',
    'stacker.yaml': `
l:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
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

  const { summary } = await buildIn(dir);
  assert.equal(summary.layers[0]?.status, 'built');
  const oci = join(dir, 'oci');

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
  const dir = tempDir(t);
  writeFiles(dir, {
    'content/data.txt': 'one\n',
    'stacker.yaml': `
l:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
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
  const dir = tempDir(t);
  writeFiles(dir, {
    'modules/m.ko': 'module\n',
    'lib.conf': 'conf\n',
    'stacker.yaml': `
merged:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
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
  const { log } = await buildIn(dir);
  assert.match(
    log.text(),
    /overlay dest \/lib\/modules is a symlink in the base, using \/usr\/lib/,
  );

  const oci = join(dir, 'oci');
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
  const base = await busyboxLayout();
  const write = (source: string) =>
    writeFiles(dir, {
      'stacker.yaml': `
l:
  from:
    type: oci
    url: ${base}:busybox
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
