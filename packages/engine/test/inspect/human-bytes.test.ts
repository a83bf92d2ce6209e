import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanBytes } from '../../src/inspect/inspect';

test('sizes are printed in SI units the way stacker prints them', () => {
  assert.equal(humanBytes(0), '0 B');
  assert.equal(humanBytes(9), '9 B');
  assert.equal(humanBytes(999), '999 B');
  assert.equal(humanBytes(1000), '1.0 kB');
  assert.equal(humanBytes(1234), '1.2 kB');
  assert.equal(humanBytes(12_345), '12 kB');
  assert.equal(humanBytes(1_100_000), '1.1 MB');
  assert.equal(humanBytes(3_400_000_000), '3.4 GB');
});
