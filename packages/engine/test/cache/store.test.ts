import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BuildCache } from '../../src/cache/store';
import { tempDir } from '../helpers';

const entry = {
  key: 'k1',
  file: '/w/stacker.yaml',
  name: 'app',
  parts: { definition: 'd', base: 'b', imports: [], sourceDateEpoch: null, settings: '' },
  result: {
    name: 'app',
    buildOnly: false,
    manifest: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:1',
      size: 1,
    },
  },
};

test('the cache keeps the newest entry per layer and finds it by key', (t) => {
  const cache = new BuildCache(tempDir(t));
  cache.put(entry);
  cache.put({ ...entry, key: 'k2' });
  assert.equal(cache.get('k1'), undefined, 'the older entry of the same layer is gone');
  assert.equal(cache.get('k2')?.name, 'app');
  assert.equal(cache.latestFor('/w/stacker.yaml', 'app')?.key, 'k2');
});

test('a damaged cache entry counts as absent and is reported once', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'cache'));
  writeFileSync(join(dir, 'cache', 'k1.json'), '{"version": 1, "key": ');
  const warnings: string[] = [];
  const cache = new BuildCache(dir, (m) => warnings.push(m));
  assert.equal(cache.get('k1'), undefined);
  assert.deepEqual(cache.entries(), []);
  assert.equal(cache.get('missing'), undefined);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] ?? '', /ignoring unreadable cache entry .*k1\.json: /);
});
