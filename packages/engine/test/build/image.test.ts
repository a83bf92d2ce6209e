import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  annotate,
  appendLayer,
  applyImageDirectives,
  makeStamp,
  startImage,
} from '../../src/build/image';
import type { Layer } from '../../src/parse/types';

const layer = (over: Partial<Layer> = {}): Layer =>
  ({
    name: 'l',
    environment: [],
    volumes: [],
    labels: {},
    annotations: {},
    os: 'linux',
    arch: 'amd64',
    ...over,
  }) as Layer;

const stamp = makeStamp(1700000000, 'someone@host');
const base = () =>
  startImage(
    {
      manifest: {
        schemaVersion: 2,
        config: { mediaType: 'x', digest: 'sha256:0', size: 0 },
        layers: [],
        annotations: { 'org.base': 'kept', 'io.stackeroci.stacker.stacker_yaml': 'old' },
      },
      config: {
        architecture: 'amd64',
        os: 'linux',
        variant: 'v1',
        config: { Env: ['PATH=/bin', 'A=old'], Cmd: ['/bin/sh'], Labels: { base: 'yes' } },
        rootfs: { type: 'layers', diff_ids: [] },
      },
    },
    layer(),
    stamp,
  );

test('SOURCE_DATE_EPOCH fixes created and the author, as stacker writes them', () => {
  assert.deepEqual(stamp, { created: '2023-11-14T22:13:20Z', author: 'stacker' });
  assert.equal(makeStamp(undefined, 'me@box').author, 'me@box');
});

test('environment keeps file order and replaces inherited values', () => {
  const image = base();
  applyImageDirectives(
    image,
    layer({
      environment: [
        ['B', '1'],
        ['A', 'new'],
      ],
    }),
    stamp,
  );
  assert.deepEqual(image.config.config?.Env, ['PATH=/bin', 'A=new', 'B=1']);
});

test('a PATH is added when neither the base nor the layer has one', () => {
  const image = startImage(undefined, layer(), stamp);
  applyImageDirectives(image, layer(), stamp);
  assert.deepEqual(image.config.config?.Env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
});

test('cmd is inherited unless set; full_command replaces entrypoint and clears cmd', () => {
  const inherited = base();
  applyImageDirectives(inherited, layer(), stamp);
  assert.deepEqual(inherited.config.config?.Cmd, ['/bin/sh']);

  const full = base();
  applyImageDirectives(full, layer({ fullCommand: ['/app', '-v'] }), stamp);
  assert.deepEqual(full.config.config?.Entrypoint, ['/app', '-v']);
  assert.equal(full.config.config?.Cmd, undefined);
});

test('labels merge, variant survives the same architecture, history gets stacker build', () => {
  const image = base();
  appendLayer(
    image,
    {
      descriptor: { mediaType: 'l', digest: 'sha256:1', size: 1 },
      diffId: 'sha256:2',
      createdBy: 'stacker build of l',
    },
    stamp,
  );
  applyImageDirectives(image, layer({ labels: { mine: 'yes' } }), stamp);
  assert.deepEqual(image.config.config?.Labels, { base: 'yes', mine: 'yes' });
  assert.equal(image.config.variant, 'v1');
  assert.deepEqual(
    image.config.history?.map((h) => [h.created_by, h.empty_layer ?? false]),
    [
      ['stacker build of l', false],
      ['stacker build', true],
    ],
  );
  assert.deepEqual(image.config.rootfs.diff_ids, ['sha256:2']);

  const arm = base();
  applyImageDirectives(arm, layer({ arch: 'arm64' }), stamp);
  assert.equal(arm.config.variant, undefined);
  assert.equal(arm.config.architecture, 'arm64');
});

test('our annotations override the inherited and user ones under the namespace', () => {
  const image = base();
  annotate(image, layer({ annotations: { 'org.user': 'u' } }), {
    namespace: 'io.stackeroci',
    stackerYaml: 'new text',
    version: 'nx-stacker test',
  });
  assert.deepEqual(image.manifest.annotations, {
    'org.base': 'kept',
    'org.user': 'u',
    'io.stackeroci.stacker.stacker_yaml': 'new text',
    'io.stackeroci.stacker.stacker_version': 'nx-stacker test',
  });
});
