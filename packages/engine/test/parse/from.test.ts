import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseError, parseLayer } from './helpers';

const withFrom = (from: string) => `a:\n  from:\n${from}`;

test('reads a docker base with its url and insecure flag', (t) => {
  const layer = parseLayer(
    t,
    withFrom('    type: docker\n    url: docker://alpine:3\n    insecure: true\n'),
  );
  assert.deepEqual(
    { ...layer.from, pos: undefined },
    { type: 'docker', url: 'docker://alpine:3', insecure: true, pos: undefined },
  );
});

test('records the position of the from map', (t) => {
  assert.deepEqual(parseLayer(t, withFrom('    type: scratch\n')).from.pos, { line: 3, column: 5 });
});

test('makes a relative oci layout path absolute against the stacker file directory', (t) => {
  const file = parse(t, withFrom('    type: oci\n    url: ../oci:busybox:1.0\n'));
  assert.equal(file.layers[0]!.from.url, `${join(file.dir, '../oci')}:busybox:1.0`);
});

test('makes a relative tar path absolute against the stacker file directory', (t) => {
  const file = parse(t, withFrom('    type: tar\n    url: rootfs.tar.gz\n'));
  assert.equal(file.layers[0]!.from.url, join(file.dir, 'rootfs.tar.gz'));
});

test('keeps tar urls with a scheme as written', (t) => {
  const layer = parseLayer(t, withFrom('    type: tar\n    url: stacker://b/out.tar\n'));
  assert.equal(layer.from.url, 'stacker://b/out.tar');
});

test('reads a built base with its tag', (t) => {
  const file = parse(
    t,
    `b:\n  from:\n    type: scratch\n${withFrom('    type: built\n    tag: b\n')}`,
  );
  assert.deepEqual([file.layers[1]!.from.type, file.layers[1]!.from.tag], ['built', 'b']);
});

test('rejects a layer without from as having no base, at the layer name', (t) => {
  parseError(t, 'a:\n  run: echo\n', {
    message: 'invalid layer: no base (from directive)',
    line: 1,
    column: 1,
    layer: 'a',
    directive: 'from',
  });
});

test('rejects a from without type as having no base', (t) => {
  parseError(t, withFrom('    url: docker://x\n'), {
    message: 'invalid layer: no base (from directive)',
    line: 3,
  });
});

test('rejects a from that is not a map', (t) => {
  parseError(t, 'a:\n  from: docker://alpine\n', {
    message: "'from' expected a map, found string: docker://alpine",
    line: 2,
    column: 9,
    layer: 'a',
    directive: 'from',
  });
});

test('rejects an unknown from key, suggesting the nearest one', (t) => {
  parseError(t, withFrom('    type: docker\n    ulr: docker://x\n'), {
    message: 'unknown image source directive ulr',
    line: 4,
    column: 5,
    hint: "did you mean 'url'?",
  });
});

test('rejects an unknown base type at parse time, listing the valid ones', (t) => {
  parseError(t, withFrom('    type: dockr\n'), {
    message: 'unknown layer type: dockr',
    line: 3,
    column: 11,
    hint: /did you mean 'docker'.*docker, oci, tar, built, scratch/,
  });
});

for (const type of ['docker', 'oci', 'tar']) {
  test(`rejects a ${type} base without url`, (t) => {
    parseError(t, withFrom(`    type: ${type}\n`), { message: `from type '${type}' needs a url` });
  });
}

test("rejects a built base without tag with stacker's message", (t) => {
  parseError(t, withFrom('    type: built\n'), {
    message: "a: from tag cannot be empty for image type 'built'",
    line: 3,
  });
});

test('rejects an oci url without a tag as a bad OCI tag', (t) => {
  parseError(t, withFrom('    type: oci\n    url: ./oci\n'), {
    message: 'bad OCI tag',
    line: 4,
    column: 10,
  });
});

test('rejects an insecure value that is not a bool', (t) => {
  parseError(t, withFrom('    type: docker\n    url: docker://x\n    insecure: "true"\n'), {
    message: "'from.insecure' expected a bool, found string",
    line: 5,
  });
});
