import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runEnvironment } from '../../src/run/environment';
import { makeLayer } from '../layer-fixture';

const HOST = { TERM: 'xterm', HTTPS_PROXY: 'http://proxy', OTHER: 'x' };

test('an empty build_env_passthrough list means the default list, as in stacker', () => {
  const names = (over: Parameters<typeof makeLayer>[0]) =>
    runEnvironment(makeLayer(over), HOST).map(([k]) => k);
  const defaults = names({});
  assert.deepEqual(defaults, ['PATH', 'HTTPS_PROXY', 'TERM', 'STACKER_LAYER_NAME']);
  assert.deepEqual(names({ buildEnvPassthrough: [] }), defaults);
  assert.deepEqual(names({ buildEnvPassthrough: ['OTHER'] }), [
    'PATH',
    'OTHER',
    'STACKER_LAYER_NAME',
  ]);
});
