import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  kindOfMediaType,
  layerIsOfType,
  layerTagName,
  parseLayerTypes,
  parseTypesKey,
  typesKey,
} from '../../src/layer-types/types';

test('layer types keep their order, count once and carry verity for squashfs and erofs', () => {
  assert.deepEqual(parseLayerTypes(['squashfs', 'tar', 'squashfs', 'erofs']), [
    { kind: 'squashfs', verity: true },
    { kind: 'tar', verity: false },
    { kind: 'erofs', verity: true },
  ]);
  assert.deepEqual(parseLayerTypes(undefined), [{ kind: 'tar', verity: false }]);
  assert.deepEqual(parseLayerTypes(['erofs'], false), [{ kind: 'erofs', verity: false }]);
});

test('an unknown or empty --layer-type list is refused with stacker messages', () => {
  assert.throws(() => parseLayerTypes(['zip']), /unknown layer type: zip/);
  assert.throws(() => parseLayerTypes([]), /must specify at least one output --layer-type/);
});

test('tags are stacker LayerNames: <name>, <name>-squashfs, <name>-erofs', () => {
  assert.equal(layerTagName('app', 'tar'), 'app');
  assert.equal(layerTagName('app', 'squashfs'), 'app-squashfs');
  assert.equal(layerTagName('app', 'erofs'), 'app-erofs');
});

test('a tar-only build keeps the cache key settings it had before layer types', () => {
  assert.equal(typesKey(parseLayerTypes(['tar'])), 'tar');
  const types = parseLayerTypes(['tar', 'squashfs', 'erofs'], false);
  assert.equal(typesKey(types), 'tar,squashfs,erofs');
  assert.deepEqual(parseTypesKey(typesKey(parseLayerTypes(['erofs', 'tar']))), [
    { kind: 'erofs', verity: true },
    { kind: 'tar', verity: false },
  ]);
  assert.equal(parseTypesKey('tar;gzip6'), undefined);
});

test('media types map to their kind; anything else to none', () => {
  assert.equal(kindOfMediaType('application/vnd.oci.image.layer.v1.tar'), 'tar');
  assert.equal(kindOfMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'tar');
  assert.equal(kindOfMediaType('application/vnd.stacker.image.layer.squashfs+zstd'), 'squashfs');
  assert.equal(kindOfMediaType('application/vnd.stacker.image.layer.erofs+lz4hc'), 'erofs');
  assert.equal(kindOfMediaType('application/vnd.stacker.image.layer.squashfsx'), undefined);
  assert.equal(kindOfMediaType('application/vnd.oci.image.layer.v1.tar+zstd'), 'tar');
  assert.equal(kindOfMediaType('application/vnd.oci.image.layer.v1.tar+bzip2'), undefined);
});

test('a squashfs layer without verity data is not of a verity squashfs type', () => {
  const plain = {
    mediaType: 'application/vnd.stacker.image.layer.squashfs+zstd',
    digest: 'sha256:00',
    size: 1,
  };
  const verity = {
    ...plain,
    annotations: { 'io.stackeroci.stacker.atomfs_verity_root_hash': 'ab' },
  };
  assert.equal(layerIsOfType(plain, { kind: 'squashfs', verity: true }), false);
  assert.equal(layerIsOfType(verity, { kind: 'squashfs', verity: true }), true);
  assert.equal(layerIsOfType(plain, { kind: 'squashfs', verity: false }), true);
  assert.equal(layerIsOfType(plain, { kind: 'erofs', verity: false }), false);
});
