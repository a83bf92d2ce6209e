import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  lchownSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readXattrs } from '../../src/native/xattrs';
import { OciLayout } from '../../src/oci/layout';
import type { ImageIndex, ImageManifest } from '../../src/oci/types';
import { packLayer } from '../../src/pack/pack-layer';
import { extractLayer } from '../../src/storage/extract';
import { setfattr, touchAll } from '../pack/fixture';
import { describeTree, requireRoot, requireTool, run, tempDir } from '../pack/helpers';
import { makeOverlayChanges } from '../pack/overlay-fixture';

/** Packs `dir` into `layout` and extracts the layer again into `target`. */
async function roundTrip(layout: OciLayout, dir: string, target: string, stripOverlay: boolean) {
  const xattrs = await readXattrs(dir, { stripOverlay });
  const { descriptor } = await packLayer({ dir, layout, xattrs });
  await extractLayer({
    blobPath: layout.blobPath(descriptor.digest),
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    target,
  });
}

test('extracted layers stack with overlayfs into the view they were built from', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  const { lower, upper, view } = makeOverlayChanges(t, root);
  const layout = await OciLayout.open(join(root, 'oci'), { create: true });
  const base = join(root, 'roots/base/overlay');
  const diff = join(root, 'roots/diff/overlay');
  await roundTrip(layout, lower, base, false);
  await roundTrip(layout, upper, diff, true);

  const mnt = join(root, 'mnt');
  mkdirSync(mnt);
  run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${diff}:${base},userxattr`, mnt]);
  let stacked: string[];
  try {
    stacked = describeTree(mnt, { xattrs: true });
  } finally {
    execFileSync('umount', [mnt]);
  }
  assert.deepEqual(stacked, view);
});

test('owners, devices, capabilities and trusted xattrs survive pack and extract', async (t) => {
  if (!requireRoot(t)) return;
  const root = tempDir(t);
  const src = join(root, 'src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'dev'));
  writeFileSync(join(src, 'bin/ping'), 'ping');
  chownSync(join(src, 'bin/ping'), 1234, 5678);
  execFileSync('chmod', ['4750', join(src, 'bin/ping')]);
  // cap_net_raw+ep, version 2, as setcap writes it.
  const cap = '0x0100000200200000000000000000000000000000';
  run('setfattr', ['-n', 'security.capability', '-v', cap, join(src, 'bin/ping')]);
  run('setfattr', ['-n', 'trusted.note', '-v', 'root only', join(src, 'dev')]);
  run('mknod', [join(src, 'dev/null'), 'c', '1', '3']);
  run('mknod', [join(src, 'dev/loop0'), 'b', '7', '0']);
  chownSync(join(src, 'dev/loop0'), 0, 6);
  symlinkSync('/bin/ping', join(src, 'ping'));
  lchownSync(join(src, 'ping'), 42, 43);
  setfattr(join(src, 'bin'), 'user.overlay.opaque', 'y');
  touchAll(src, 1_650_000_000);

  const layout = await OciLayout.open(join(root, 'oci'), { create: true });
  const target = join(root, 'roots/x/overlay');
  await roundTrip(layout, src, target, true);
  assert.deepEqual(describeTree(target, { xattrs: true }), describeTree(src, { xattrs: true }));
});

test('a layer umoci wrote (root entry "/") extracts to what umoci unpacked', async (t) => {
  if (!requireRoot(t) || !requireTool(t, 'umoci')) return;
  const root = tempDir(t);
  const oci = join(root, 'oci');
  run('umoci', ['init', '--layout', oci]);
  run('umoci', ['new', '--image', `${oci}:t`]);
  const bundle = join(root, 'bundle');
  run('umoci', ['unpack', '--image', `${oci}:t`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc/motd'), 'hello\n');
  chownSync(join(rootfs, 'etc/motd'), 7, 8);
  execFileSync('chmod', ['2751', join(rootfs, 'etc')]);
  symlinkSync('motd', join(rootfs, 'etc/issue'));
  run('ln', [join(rootfs, 'etc/motd'), join(rootfs, 'etc/motd.bak')]);
  run('setfattr', ['-n', 'user.overlay.x', '-v', 'escaped on disk', join(rootfs, 'etc/motd')]);
  // Whole seconds: Go's tar writer rounds mtimes to the nearest second, we truncate.
  touchAll(rootfs, 1_650_000_000);
  run('umoci', ['repack', '--image', `${oci}:t`, bundle]);

  const layout = await OciLayout.open(oci, { create: false });
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as ImageIndex;
  const manifest = await layout.readJson<ImageManifest>(index.manifests[0]!);
  const layer = manifest.layers.at(-1)!;
  const target = join(root, 'extracted');
  await extractLayer({
    blobPath: layout.blobPath(layer.digest),
    mediaType: layer.mediaType,
    digest: layer.digest,
    target,
  });

  const expected = describeTree(rootfs, { xattrs: true }).map((line) =>
    line.replace('user.overlay.x=', 'user.overlay.overlay.x='),
  );
  assert.deepEqual(describeTree(target, { xattrs: true }), expected);
});
