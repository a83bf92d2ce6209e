import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { OciLayout } from '../../src/oci/layout';
import {
  ANNOTATION_UNCOMPRESSED_SIZE,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_LAYER_TAR_GZIP,
} from '../../src/oci/types';
import { packDir, packLayer } from '../../src/pack/pack-layer';
import { bigContent, makeUpperDir, UPPER_DIR_NAMES } from './fixture';
import { getfattrMap, readHeaders, run, sha256, tarNames, tempDir, writeTree } from './helpers';

async function setup(t: TestContext) {
  const root = tempDir(t);
  const layout = await OciLayout.open(join(root, 'oci'), { create: true });
  const upper = join(root, 'upper');
  mkdirSync(upper);
  return { root, layout, upper };
}

async function pack(layout: OciLayout, dir: string, sourceDateEpoch?: number) {
  return packLayer({ dir, layout, xattrs: getfattrMap(dir), sourceDateEpoch });
}

test('an upper dir becomes a layer listing every file, whiteouts and opaque markers', async (t) => {
  const { layout, upper } = await setup(t);
  makeUpperDir(upper);
  const result = await pack(layout, upper);
  const blob = layout.blobPath(result.descriptor.digest);

  assert.deepEqual(tarNames(blob), UPPER_DIR_NAMES);
  assert.equal(result.entries, UPPER_DIR_NAMES.length - 1);
  const listing = run('tar', ['--numeric-owner', '-tvzf', blob]).toString();
  assert.match(listing, /^-rwsr-xr-x \S+ +\d+ .* usr\/bin\/tool$/m);
  assert.match(listing, /^hrwsr-xr-x .* usr\/bin\/tool-link link to usr\/bin\/tool$/m);
  assert.match(listing, /^lrwxrwxrwx .* lib -> usr\/lib$/m);
  assert.match(listing, /^p\S+ .* run\/fifo$/m);
  assert.match(listing, /^---------- 0\/0 +0 1970-01-01 00:00 \.wh\.gone$/m);
  assert.match(listing, /^---------- 0\/0 +0 1970-01-01 00:00 opq\/\.wh\.\.wh\.\.opq$/m);
});

test('the digest and diff ID are the sha256 of the blob and of its gunzipped tar', async (t) => {
  const { layout, upper } = await setup(t);
  makeUpperDir(upper);
  const result = await pack(layout, upper);
  const blob = layout.blobPath(result.descriptor.digest);
  const tar = run('gunzip', ['-c', blob]);

  assert.equal(result.descriptor.mediaType, MEDIA_TYPE_LAYER_TAR_GZIP);
  assert.equal(result.descriptor.digest, sha256(blob));
  assert.equal(result.descriptor.size, readFileSync(blob).length);
  assert.equal(result.diffId, sha256(tar));
  assert.equal(result.uncompressedSize, tar.length);
  assert.deepEqual(result.descriptor.annotations, {
    [ANNOTATION_UNCOMPRESSED_SIZE]: `${tar.length}`,
  });
  assert.deepEqual(
    readdirSync(join(layout.dir, 'blobs', 'sha256')),
    [result.descriptor.digest.slice(7)],
    'no temp file is left',
  );
});

test('the gzip stream has no timestamp and no file name', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { f: 'x' });
  const result = await pack(layout, upper);
  const head = readFileSync(layout.blobPath(result.descriptor.digest)).subarray(0, 10);
  // magic, deflate, no flags (so no name), mtime 0, xfl, os
  assert.equal(head.subarray(0, 8).toString('hex'), '1f8b080000000000');
});

test('packing the same tree twice gives the same digest', async (t) => {
  const { layout, upper } = await setup(t);
  makeUpperDir(upper);
  const first = await pack(layout, upper);
  const second = await pack(layout, upper);
  assert.equal(second.descriptor.digest, first.descriptor.digest);
  assert.equal(second.diffId, first.diffId);
});

test('a copy made in another order, other mtimes, packs identically under SDE', async (t) => {
  const { root, layout, upper } = await setup(t);
  makeUpperDir(upper, { mtime: 1_700_000_000 });
  const copy = join(root, 'copy');
  mkdirSync(copy);
  makeUpperDir(copy, { reverse: true, mtime: 1_750_000_000 });
  const epoch = 1_000_000_000;

  const a = await pack(layout, upper, epoch);
  const b = await pack(layout, copy, epoch);
  assert.equal(b.descriptor.digest, a.descriptor.digest);

  const unclamped = await pack(layout, copy);
  assert.notEqual(unclamped.descriptor.digest, a.descriptor.digest, 'mtimes are in the layer');
});

test('mtimes are truncated to seconds and clamped to SOURCE_DATE_EPOCH when later', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { old: 'o', new: 'n' });
  utimesSync(join(upper, 'old'), 1000.9, 1000.9);
  utimesSync(join(upper, 'new'), 3000.5, 3000.5);
  const result = await pack(layout, upper, 2000);

  const headers = await readHeaders(layout.blobPath(result.descriptor.digest));
  const mtime = (name: string) => headers.find((h) => h.name === name)?.mtime.getTime();
  assert.equal(mtime('old'), 1000_000);
  assert.equal(mtime('new'), 2000_000);
});

test('user xattrs are kept, overlayfs bookkeeping dropped, escaped names restored', async (t) => {
  const { layout, upper } = await setup(t);
  makeUpperDir(upper);
  const result = await pack(layout, upper);

  const headers = await readHeaders(layout.blobPath(result.descriptor.digest));
  const pax = (name: string) => headers.find((h) => h.name === name)?.pax ?? {};
  assert.deepEqual(pax('etc/hostname'), {
    'SCHILY.xattr.user.mime': 'text/plain',
    'SCHILY.xattr.user.overlay.kept': 'escaped',
  });
  assert.deepEqual(pax('opq/'), {}, 'the opaque xattr becomes a marker entry, not a record');
});

test('host-specific xattrs never reach the layer', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { f: 'x' });
  const xattrs = new Map([
    [
      'f',
      new Map([
        ['security.selinux', Buffer.from('system_u:object_r:tmp_t:s0')],
        ['system.nfs4_acl', Buffer.from([1, 2])],
        ['trusted.overlay.origin', Buffer.from([3])],
        ['trusted.other', Buffer.from('kept')],
        ['user.empty', Buffer.alloc(0)],
      ]),
    ],
  ]);
  const result = await packLayer({ dir: upper, layout, xattrs });
  const headers = await readHeaders(layout.blobPath(result.descriptor.digest));
  assert.deepEqual(headers.find((h) => h.name === 'f')?.pax, {
    'SCHILY.xattr.trusted.other': 'kept',
  });
});

test('owner names are left empty', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { f: 'x' });
  const result = await pack(layout, upper);
  for (const header of await readHeaders(layout.blobPath(result.descriptor.digest))) {
    assert.equal(header.uname, '');
    assert.equal(header.gname, '');
  }
});

test('siblings are in byte order of their names, each dir before its content', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { é: '', a: '', B: '', _: '', 'a-c': '', 'x/b': '', 'x-c': '' });
  const result = await pack(layout, upper);
  assert.deepEqual(tarNames(layout.blobPath(result.descriptor.digest)), [
    './',
    'B',
    '_',
    'a',
    'a-c',
    'x/',
    'x/b',
    'x-c',
    'é',
  ]);
});

test('big files are streamed into the layer intact', async (t) => {
  const { root, layout, upper } = await setup(t);
  writeFileSync(join(upper, 'big'), bigContent());
  writeTree(upper, { small: 'small' });
  const result = await pack(layout, upper);

  const out = join(root, 'out');
  mkdirSync(out);
  run('tar', ['-xzf', layout.blobPath(result.descriptor.digest), '-C', out]);
  assert.equal(sha256(join(out, 'big')), sha256(bigContent()));
  assert.equal(readFileSync(join(out, 'small'), 'utf8'), 'small');
});

test('a file whose name starts with .wh. is refused, naming it', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { 'etc/.wh.sneaky': 'x' });
  await assert.rejects(pack(layout, upper), {
    message: 'invalid path has whiteout prefix ".wh.": /etc/.wh.sneaky',
  });
  assert.deepEqual(readdirSync(join(layout.dir, 'blobs', 'sha256')), [], 'no temp file is left');
});

test('an empty upper dir packs to a layer with no entries', async (t) => {
  const { layout, upper } = await setup(t);
  const result = await pack(layout, upper);
  assert.equal(result.entries, 0);
  assert.deepEqual(tarNames(layout.blobPath(result.descriptor.digest)), ['./']);
});

test('packDir makes an uncompressed layer whose digest is its diff ID', async (t) => {
  const { layout, upper } = await setup(t);
  writeTree(upper, { 'usr/share/doc': 'doc' });
  const result = await packDir({ dir: upper, layout, xattrs: new Map() });
  const blob = layout.blobPath(result.descriptor.digest);

  assert.equal(result.descriptor.mediaType, MEDIA_TYPE_LAYER_TAR);
  assert.equal(result.diffId, result.descriptor.digest);
  assert.equal(result.descriptor.digest, sha256(blob));
  assert.equal(result.descriptor.annotations, undefined);
  assert.equal(result.uncompressedSize, readFileSync(blob).length);
  assert.deepEqual(tarNames(blob), ['./', 'usr/', 'usr/share/', 'usr/share/doc']);
});
