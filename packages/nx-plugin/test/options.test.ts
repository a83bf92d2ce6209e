import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeOptions, type StackerPluginOptions } from '../src/options';

const refused = (options: unknown, message: RegExp) =>
  assert.throws(() => normalizeOptions(options as StackerPluginOptions), message);

test('plugin options with a wrong type or value are refused, naming nx.json and the option', () => {
  refused(
    { gzipLevel: '1' },
    /nx\.json: .*'gzipLevel' must be a whole number from 1 to 9, not "1"/,
  );
  refused({ gzipLevel: 12 }, /'gzipLevel' must be a whole number from 1 to 9, not 12/);
  refused({ layerTypes: ['squash'] }, /'layerTypes' must be a list of tar, squashfs, erofs/);
  refused({ verity: 'no' }, /'verity' must be true or false/);
  refused({ substitutions: ['A=1'] }, /'substitutions' must be a map of KEY: value/);
  refused({ publish: { tags: 'latest' } }, /'publish\.tags' must be a list of tags/);
});

test('unknown plugin options are refused with the known ones', () => {
  refused(
    { bogus: true },
    /unknown option 'bogus' \(known: buildTargetName, .*gzipLevel, publish\)/,
  );
  refused({ publish: { token: 'x' } }, /unknown option 'publish\.token'/);
});

test('valid options are normalised', () => {
  const n = normalizeOptions({
    gzipLevel: 1,
    layerTypes: ['tar', 'squashfs'],
    substitutions: { VERSION: '1.2', N: 3 as unknown as string },
    publish: { url: 'docker://r/ns', tags: ['1.2'], release: false },
  });
  assert.deepEqual(n.build, { layerTypes: ['tar', 'squashfs'], gzipLevel: 1 });
  assert.deepEqual(n.substitute, ['VERSION=1.2', 'N=3']);
  assert.equal(n.releaseTargetName, undefined);
  assert.deepEqual(normalizeOptions(undefined).build, {});
});
