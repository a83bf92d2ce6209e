import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Layer } from '../../src/parse/types';
import { DEFAULT_PATH, runEnvironment, runScript } from '../../src/run/environment';

const layer = (over: Partial<Layer>): Layer =>
  ({ name: 'l', file: '/f', buildEnv: {}, ...over }) as Layer;

test('passes the default host variables, then build_env, then STACKER_LAYER_NAME', () => {
  const env = runEnvironment(layer({ buildEnv: { FOO: 'bar', TERM: 'dumb' } }), {
    TERM: 'xterm',
    HOME: '/root',
    http_proxy: 'http://proxy',
    SOURCE_DATE_EPOCH: '5',
  });
  assert.deepEqual(env, [
    ['PATH', DEFAULT_PATH],
    ['SOURCE_DATE_EPOCH', '5'],
    ['TERM', 'dumb'],
    ['http_proxy', 'http://proxy'],
    ['FOO', 'bar'],
    ['STACKER_LAYER_NAME', 'l'],
  ]);
});

test('a passthrough list replaces the defaults and anchors each pattern whole', () => {
  const env = runEnvironment(layer({ buildEnvPassthrough: ['A|B', 'C.*'] }), {
    A: '1',
    AX: 'no',
    XB: 'no',
    B: '2',
    CAT: '3',
    TERM: 'xterm',
  });
  assert.deepEqual(
    env.map(([k]) => k),
    ['PATH', 'A', 'B', 'CAT', 'STACKER_LAYER_NAME'],
  );
});

test('drops empty values and lets build_env override PATH', () => {
  const env = runEnvironment(layer({ buildEnv: { PATH: '/x', EMPTY: '' } }), {});
  assert.deepEqual(env, [
    ['PATH', '/x'],
    ['STACKER_LAYER_NAME', 'l'],
  ]);
});

test('the run script traces and stops on errors unless it has its own shebang', () => {
  assert.equal(runScript(['echo a', 'echo b']), '#!/bin/sh -xe\necho a\necho b\n');
  assert.equal(runScript(['#!/bin/bash', 'echo a']), '#!/bin/bash\necho a\n');
});
