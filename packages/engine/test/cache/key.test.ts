import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definitionHash, type KeyParts, layerKey, missReason } from '../../src/cache/key';
import type { Layer } from '../../src/parse/types';
import { makeLayer } from '../layer-fixture';

const layer = (dir: string, over: Partial<Layer> = {}): Layer =>
  makeLayer({
    file: `${dir}/stacker.yaml`,
    pos: { line: 3, column: 1 },
    from: { type: 'oci', url: `${dir}/base:latest`, insecure: false },
    imports: [{ path: `${dir}/src/`, pos: { line: 7, column: 5 } }],
    run: ['make'],
    environment: [['A', '1']],
    directivePos: { run: { line: 9, column: 3 } },
    ...over,
  });

const parts = (over: Partial<KeyParts> = {}): KeyParts => ({
  definition: 'd',
  base: 'b',
  imports: [{ path: '/w/src', digest: 'sha256:1' }],
  sourceDateEpoch: null,
  settings: 's',
  ...over,
});

test('the definition hash does not depend on where the workspace is checked out', () => {
  assert.equal(definitionHash(layer('/one'), '/one'), definitionHash(layer('/two'), '/two'));
});

test('the definition hash ignores positions but not content', () => {
  const moved = layer('/w', { pos: { line: 30, column: 1 }, directivePos: {} });
  assert.equal(definitionHash(moved, '/w'), definitionHash(layer('/w'), '/w'));
  assert.notEqual(
    definitionHash(layer('/w', { run: ['make all'] }), '/w'),
    definitionHash(layer('/w'), '/w'),
  );
});

test('the key changes with every input', () => {
  const key = layerKey(parts());
  assert.equal(layerKey(parts()), key);
  assert.notEqual(layerKey(parts({ definition: 'x' })), key);
  assert.notEqual(layerKey(parts({ base: 'x' })), key);
  assert.notEqual(layerKey(parts({ imports: [{ path: '/w/src', digest: 'sha256:2' }] })), key);
  assert.notEqual(layerKey(parts({ sourceDateEpoch: 1 })), key);
  assert.notEqual(layerKey(parts({ settings: 'x' })), key);
});

test('the key does not depend on where the workspace is checked out', () => {
  const here = parts({ imports: [{ path: '/one/src', digest: 'sha256:1' }] });
  const there = parts({ imports: [{ path: '/two/src', digest: 'sha256:1' }] });
  assert.equal(layerKey(here), layerKey(there));
});

test('a miss names the first input that changed', () => {
  assert.equal(missReason(undefined, parts()), 'not built before');
  assert.equal(missReason(parts(), parts({ definition: 'x' })), 'layer definition changed');
  assert.equal(missReason(parts(), parts({ base: 'x' })), 'base layer changed');
  assert.equal(missReason(parts(), parts({ sourceDateEpoch: 3 })), 'SOURCE_DATE_EPOCH changed');
  assert.equal(
    missReason(parts(), parts({ imports: [{ path: '/w/src', digest: 'sha256:9' }] })),
    'import /w/src changed',
  );
  assert.equal(
    missReason(parts(), parts({ imports: [{ path: '/w/new', digest: 'sha256:1' }] })),
    'new import /w/new',
  );
});
