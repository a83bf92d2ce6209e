import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { blobPath, readManifest, requireRoot, runCli, tempDir } from '../helpers';
import {
  builtProject,
  readConfig,
  tagNames,
  VERITY_ANNOTATION,
  veritysetupVerify,
  withMounted,
  writeProject,
  xattrsOf,
} from './helpers';

const ALL = ['tar', 'squashfs', 'erofs'];

test('tar, squashfs and erofs types tag <layer>, <layer>-squashfs, <layer>-erofs', async (t) => {
  if (!requireRoot(t)) return;
  const { oci } = await builtProject(t, { layerTypes: ALL });

  assert.deepEqual(tagNames(oci), [
    'base',
    'base-squashfs',
    'base-erofs',
    'xa',
    'xa-squashfs',
    'xa-erofs',
  ]);
  const types = (tag: string) => readManifest(oci, tag).layers.map((l) => l.mediaType);
  assert.deepEqual(types('base-squashfs'), [
    'application/vnd.stacker.image.layer.squashfs+zstd',
    'application/vnd.stacker.image.layer.squashfs+zstd',
  ]);
  assert.deepEqual(types('xa-erofs'), ['application/vnd.stacker.image.layer.erofs+lz4hc']);
  assert.deepEqual(types('xa'), ['application/vnd.oci.image.layer.v1.tar+gzip']);
});

test('squashfs and erofs images have the tar config, with blob digests as diff_ids', async (t) => {
  if (!requireRoot(t)) return;
  const { oci } = await builtProject(t, { layerTypes: ALL });

  const tar = readConfig(oci, 'base');
  for (const tag of ['base-squashfs', 'base-erofs']) {
    const config = readConfig(oci, tag);
    const layers = readManifest(oci, tag).layers;
    assert.deepEqual(
      config.rootfs.diff_ids,
      layers.map((l) => l.digest),
      tag,
    );
    assert.deepEqual({ ...config, rootfs: null }, { ...tar, rootfs: null }, tag);
  }
  assert.deepEqual(
    readManifest(oci, 'base-squashfs').annotations,
    readManifest(oci, 'base').annotations,
  );
});

test('a squashfs layer keeps whiteouts, opaque dirs and xattrs in overlay format', async (t) => {
  if (!requireRoot(t)) return;
  const { oci } = await builtProject(t, { layerTypes: ['squashfs'] });

  const own = readManifest(oci, 'base-squashfs').layers.at(-1);
  assert.ok(own);
  const listing = execFileSync('unsquashfs', ['-lls', blobPath(oci, own.digest)], {
    encoding: 'utf8',
  });
  assert.match(listing, /^c--------- root\/root\s+0,\s+0 .* squashfs-root\/etc\/passwd$/m);
  assert.match(listing, /squashfs-root\/usr\/sbin\/only$/m);
  assert.match(listing, /squashfs-root\/built$/m);

  const out = tempDir(t);
  const tagged = readManifest(oci, 'xa-squashfs').layers[0];
  assert.ok(tagged);
  execFileSync('unsquashfs', ['-f', '-d', out, blobPath(oci, tagged.digest)]);
  assert.equal(xattrsOf(join(out, 'srv/tagged'))['user.color'], 'blue');

  withMounted(blobPath(oci, own.digest), 'squashfs', (mnt) => {
    const passwd = statSync(join(mnt, 'etc/passwd'));
    assert.ok(passwd.isCharacterDevice());
    assert.equal(passwd.rdev, 0);
    assert.equal(xattrsOf(join(mnt, 'usr/sbin'))['user.overlay.opaque'], 'y');
  });
});

test('an erofs layer mounts with its whiteouts, opaque dirs and xattrs', async (t) => {
  if (!requireRoot(t)) return;
  const { oci } = await builtProject(t, { layerTypes: ['erofs'] });

  const own = readManifest(oci, 'base-erofs').layers.at(-1);
  const tagged = readManifest(oci, 'xa-erofs').layers[0];
  assert.ok(own && tagged);
  withMounted(blobPath(oci, own.digest), 'erofs', (mnt) => {
    assert.ok(statSync(join(mnt, 'etc/passwd')).isCharacterDevice());
    assert.equal(xattrsOf(join(mnt, 'usr/sbin'))['user.overlay.opaque'], 'y');
    assert.equal(execFileSync('cat', [join(mnt, 'built')], { encoding: 'utf8' }), 'built\n');
  });
  withMounted(blobPath(oci, tagged.digest), 'erofs', (mnt) => {
    assert.equal(xattrsOf(join(mnt, 'srv/tagged'))['user.color'], 'blue');
  });
});

test('the verity root hash of squashfs and erofs layers verifies with veritysetup', async (t) => {
  if (!requireRoot(t)) return;
  const { oci } = await builtProject(t, { layerTypes: ['squashfs', 'erofs'] });

  for (const [tag, kind] of [
    ['base-squashfs', 'squashfs'],
    ['base-erofs', 'erofs'],
  ] as const) {
    for (const layer of readManifest(oci, tag).layers) {
      const root = layer.annotations?.[VERITY_ANNOTATION];
      assert.match(root ?? '', /^[0-9a-f]{64}$/, `${tag} ${layer.digest}`);
      veritysetupVerify(blobPath(oci, layer.digest), kind, root as string);
      const wrong = `${(root as string).slice(0, -1)}${root?.endsWith('0') ? '1' : '0'}`;
      assert.throws(() => veritysetupVerify(blobPath(oci, layer.digest), kind, wrong));
    }
  }
});

test('--no-verity leaves the verity data and annotation out', async (t) => {
  if (!requireRoot(t)) return;
  const { oci } = await builtProject(t, { layerTypes: ['squashfs'], verity: false });

  for (const layer of readManifest(oci, 'xa-squashfs').layers) {
    assert.equal(layer.annotations?.[VERITY_ANNOTATION], undefined);
    const size = Number(
      /Filesystem size ([0-9]+) bytes/.exec(
        execFileSync('unsquashfs', ['-s', blobPath(oci, layer.digest)], { encoding: 'utf8' }),
      )?.[1],
    );
    assert.equal(layer.size, Math.ceil(size / 4096) * 4096);
  }
});

test('the content dir of a layer of another type is a symlink to the primary one', async (t) => {
  if (!requireRoot(t)) return;
  const { dir, oci } = await builtProject(t, { layerTypes: ['tar', 'squashfs'] });

  const tarLayer = readManifest(oci, 'xa').layers[0];
  const sqLayer = readManifest(oci, 'xa-squashfs').layers[0];
  assert.ok(tarLayer && sqLayer);
  const link = join(dir, 'roots', sqLayer.digest.replace(':', '_'));
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), tarLayer.digest.replace(':', '_'));
  assert.ok(statSync(join(link, 'overlay/srv/tagged')).isFile());
});

test('the CLI takes repeated --layer-type and --no-squashfs-verity', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await writeProject(dir);
  const args = ['build', '--layer-type', 'erofs', '--layer-type', 'tar', '--no-squashfs-verity'];
  const run = runCli(args, dir);
  assert.equal(run.status, 0, run.stderr);

  const oci = join(dir, 'oci');
  assert.deepEqual(tagNames(oci), ['base-erofs', 'base', 'xa-erofs', 'xa']);
  for (const layer of readManifest(oci, 'xa-erofs').layers) {
    assert.equal(layer.annotations?.[VERITY_ANNOTATION], undefined);
  }
});
