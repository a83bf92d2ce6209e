import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildIn, busyboxLayout, requireRoot, tempDir, umociUnpack, writeFiles } from '../helpers';
import { sha256Hex } from './fixtures';

/**
 * `first` writes /data and /artifact; `second` deletes some of it (whiteouts), replaces a
 * directory (an opaque one) and tars /data up; `consumer` and `tarred` read from `second`.
 */
async function project(dir: string, artifactHash = sha256Hex('file\n')): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
first:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  run: |
    mkdir -p /data/sub /data/gone /data/opq
    echo a > /data/a
    echo b > /data/sub/b
    echo x > /data/gone/x
    echo old > /data/opq/old
    echo file > /artifact
second:
  from: {type: built, tag: first}
  run: |
    rm -rf /data/gone /data/a /data/opq
    mkdir /data/opq
    echo new > /data/opq/new
    echo c > /data/sub/c
    mkdir /tarball
    cd / && tar -czf /tarball/data.tar.gz data
consumer:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  imports:
    - path: stacker://second/artifact
      hash: ${artifactHash}
      dest: /opt/renamed-artifact
    - stacker://second/data
  run: cp -r /stacker/imports/data /copied
tarred:
  from: {type: tar, url: "stacker://second/tarball/data.tar.gz"}
`,
  });
}

test('stacker:// imports see the layer as its run step did; dest and hash honoured', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir);
  await buildIn(dir);

  const consumer = umociUnpack(t, join(dir, 'oci'), 'consumer');
  assert.equal(readFileSync(join(consumer, 'opt/renamed-artifact'), 'utf8'), 'file\n');
  assert.equal(readFileSync(join(consumer, 'copied/sub/b'), 'utf8'), 'b\n');
  assert.equal(readFileSync(join(consumer, 'copied/sub/c'), 'utf8'), 'c\n');
  assert.equal(readFileSync(join(consumer, 'copied/opq/new'), 'utf8'), 'new\n');
  for (const gone of ['copied/a', 'copied/gone', 'copied/opq/old']) {
    assert.equal(existsSync(join(consumer, gone)), false, `${gone} was deleted in second`);
  }

  const tarred = umociUnpack(t, join(dir, 'oci'), 'tarred');
  assert.equal(readFileSync(join(tarred, 'data/sub/c'), 'utf8'), 'c\n');
  assert.equal(existsSync(join(tarred, 'data/a')), false);
});

test('stacker:// imports are part of the cache key', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir);
  await buildIn(dir);

  const same = await buildIn(dir);
  assert.deepEqual(
    same.summary.layers.map((l) => l.status),
    ['reused', 'reused', 'reused', 'reused'],
  );

  // A change in `second` reaches its consumers.
  const yaml = readFileSync(join(dir, 'stacker.yaml'), 'utf8');
  writeFiles(dir, { 'stacker.yaml': yaml.replace('echo c >', 'echo C >') });
  const changed = await buildIn(dir);
  const status = Object.fromEntries(changed.summary.layers.map((l) => [l.name, l.status]));
  assert.deepEqual(status, {
    first: 'reused',
    second: 'built',
    consumer: 'built',
    tarred: 'built',
  });
  const consumer = umociUnpack(t, join(dir, 'oci'), 'consumer');
  assert.equal(readFileSync(join(consumer, 'copied/sub/c'), 'utf8'), 'C\n');
});

test('the hash of a stacker:// import is checked (stacker ignores it)', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const wrong = sha256Hex('not the artifact');
  await project(dir, wrong);
  await assert.rejects(buildIn(dir), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(
        `The requested hash of stacker://second/artifact import is different than the actual ` +
          `hash: ${wrong} != ${sha256Hex('file\n')}`,
      ),
    );
    return true;
  });
});
