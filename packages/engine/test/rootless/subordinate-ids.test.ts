import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  namespaceMap,
  nextRangeStart,
  parseSubordinateIds,
  rangesOf,
} from '../../src/rootless/subordinate-ids';

describe('/etc/subuid and /etc/subgid', () => {
  test('lines are owner:start:count; blank lines and comments are skipped', () => {
    const text = '# ids\nalice:100000:65536\n\n1001:300000:10\n';
    assert.deepEqual(parseSubordinateIds(text, '/etc/subuid'), [
      { owner: 'alice', start: 100000, count: 65536 },
      { owner: '1001', start: 300000, count: 10 },
    ]);
  });

  test('a malformed line is an error quoting it, as stacker words it', () => {
    assert.throws(
      () => parseSubordinateIds('alice:100000\n', '/etc/subuid'),
      /^StackerError: invalid \/etc\/subuid entry: alice:100000$/,
    );
    assert.throws(() => parseSubordinateIds('bob:1:0\n', '/etc/subgid'), /invalid \/etc\/subgid/);
  });

  test("a user's ranges are found by name or by uid, in file order", () => {
    const ranges = parseSubordinateIds('a:1:1\nbob:200:5\n1001:100:5\n', 'f');
    assert.deepEqual(
      rangesOf(ranges, { name: 'bob', id: 1001 }).map((r) => r.start),
      [200, 100],
    );
    assert.deepEqual(rangesOf(ranges, { id: 7 }), []);
  });
});

describe('the namespace map of a rootless build', () => {
  test("the caller's id is 0; namespace id N is host id start+N in the first range", () => {
    assert.deepEqual(namespaceMap(1000, [{ owner: 'u', start: 100000, count: 65536 }]), [
      { nsid: 0, hostid: 1000, count: 1 },
      { nsid: 1, hostid: 100001, count: 65535 },
    ]);
  });

  test('later ranges continue the namespace ids', () => {
    const map = namespaceMap(1000, [
      { owner: 'u', start: 100000, count: 10 },
      { owner: 'u', start: 500000, count: 100 },
    ]);
    assert.deepEqual(map, [
      { nsid: 0, hostid: 1000, count: 1 },
      { nsid: 1, hostid: 100001, count: 9 },
      { nsid: 10, hostid: 500000, count: 100 },
    ]);
  });

  test("a range holding the caller's own id is split around it (a host id maps once)", () => {
    const map = namespaceMap(100005, [{ owner: 'u', start: 100000, count: 10 }]);
    assert.deepEqual(map, [
      { nsid: 0, hostid: 100005, count: 1 },
      { nsid: 1, hostid: 100001, count: 4 },
      { nsid: 5, hostid: 100006, count: 4 },
    ]);
  });

  test('no ranges, no map', () => {
    assert.deepEqual(namespaceMap(1000, []), []);
  });
});

describe('a new range for unpriv-setup', () => {
  test('starts at 100000 on an empty file, after every existing range otherwise', () => {
    assert.equal(nextRangeStart([], 1000), 100000);
    const existing = parseSubordinateIds('a:100000:65536\nb:400000:1000\n', 'f');
    assert.equal(nextRangeStart(existing, 1000), 401000);
  });

  test("moves up one range when the user's own id would fall inside", () => {
    assert.equal(nextRangeStart([], 120000), 165536);
  });
});
