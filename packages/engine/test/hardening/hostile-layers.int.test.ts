/**
 * Hostile base layers, the root-only cases: device nodes (only root can make them) and
 * setuid programs (only root extracts them with their owner). A layer may hold both, as
 * real images do; they must stay inside the extraction root and out of other users' reach.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { MEDIA_TYPE_LAYER_TAR_GZIP } from '../../src/oci/types';
import { major, minor } from '../../src/pack/headers';
import { extractLayer } from '../../src/storage/extract';
import { Roots } from '../../src/storage/roots';
import { requireRoot, sha256, tempDir } from '../pack/helpers';
import { blobOptions, namesIn } from '../storage/extract-helpers';
import { type RawEntry, rawTar } from './raw-tar';

function arena(t: TestContext) {
  const root = tempDir(t, 'nx-stacker-hostile-');
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'original');
  return { root, outside };
}

/** Runs `args` as nobody; returns the exit status and stderr. */
function asNobody(args: string[]) {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...args], {
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

test('device nodes and FIFOs are created inside the root, with their numbers', async (t) => {
  if (!requireRoot(t)) return;
  const { root, outside } = arena(t);
  const tar = rawTar([
    { name: 'dev/', type: '5' },
    { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/vda', type: '4', devmajor: 253, devminor: 0, mode: 0o660 },
    { name: '/dev/fifo', type: '6' },
  ]);
  const real = blobOptions(root, gzipSync(tar));
  await extractLayer(real);

  const node = (p: string) => lstatSync(join(real.target, p));
  assert.ok(node('dev/null').isCharacterDevice());
  assert.deepEqual([major(node('dev/null').rdev), minor(node('dev/null').rdev)], [1, 3]);
  assert.ok(node('dev/vda').isBlockDevice());
  assert.deepEqual([major(node('dev/vda').rdev), minor(node('dev/vda').rdev)], [253, 0]);
  assert.ok(node('dev/fifo').isFIFO());
  assert.equal(node('dev/vda').mode & 0o7777, 0o660);
  assert.deepEqual(namesIn(outside), ['victim']);
  assert.deepEqual(namesIn(real.parent), ['overlay']);
});

test('a device node below a symlink to outside is refused', async (t) => {
  if (!requireRoot(t)) return;
  const { root, outside } = arena(t);
  const opts = blobOptions(
    root,
    gzipSync(
      rawTar([
        { name: 'd', type: '2', linkname: outside },
        { name: 'd/null', type: '3', devmajor: 1, devminor: 3 },
      ]),
    ),
  );
  await assert.rejects(extractLayer(opts), /at entry "d\/null": \/d is a symlink/);
  assert.deepEqual(namesIn(outside), ['victim']);
  assert.deepEqual(namesIn(opts.parent), []);
});

test('a file entry over a device node replaces the node, never writes into it', async (t) => {
  if (!requireRoot(t)) return;
  const { root } = arena(t);
  // Enough whiteouts in between that the node is really created (queued work is applied
  // every 4096 operations) before the file entry for the same path arrives.
  const filler: RawEntry[] = Array.from({ length: 5000 }, (_, i) => ({
    name: `w/.wh.gone-${i}`,
  }));
  const tar = rawTar([
    { name: 'dev/', type: '5' },
    { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 },
    ...filler,
    { name: 'dev/null', data: 'captured' },
  ]);
  const opts = blobOptions(root, gzipSync(tar));
  await extractLayer(opts);
  const stat = lstatSync(join(opts.target, 'dev/null'));
  assert.ok(stat.isFile(), 'a regular file, not the device');
  assert.equal(readFileSync(join(opts.target, 'dev/null'), 'utf8'), 'captured');
  assert.ok(lstatSync(join(opts.target, 'w/gone-4999')).isCharacterDevice());
});

test('setuid programs of a base layer are kept but out of reach of other users', async (t) => {
  if (!requireRoot(t)) return;
  const { root } = arena(t);
  const tar = rawTar([
    { name: 'bin/', type: '5' },
    { name: 'bin/rootshell', mode: 0o4755, uid: 0, gid: 0, data: '#!/bin/sh\nid -u\n' },
    { name: 'tmp/', type: '5', mode: 0o1777 },
  ]);
  const blob = gzipSync(tar);
  const blobPath = join(root, 'blob');
  writeFileSync(blobPath, blob);
  const roots = new Roots(join(root, 'roots'));
  mkdirSync(roots.dir, { mode: 0o755 });
  const dir = await roots.ensureExtracted(
    { mediaType: MEDIA_TYPE_LAYER_TAR_GZIP, digest: sha256(blob), size: blob.length },
    blobPath,
  );

  const program = join(dir, 'bin/rootshell');
  assert.equal(lstatSync(program).mode & 0o7777, 0o4755, 'the image keeps its setuid bit');
  assert.equal(lstatSync(join(dir, '..')).mode & 0o777, 0o700);
  const run = asNobody([program]);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /Permission denied/);
  // Even the world-writable /tmp of the layer is out of reach.
  assert.match(asNobody(['touch', join(dir, 'tmp/x')]).stderr, /Permission denied/);

  // The same holds for a layer's upper dir, where a run step creates its files.
  roots.resetLayer('app');
  writeFileSync(join(roots.upperDir('app'), 'suid'), '#!/bin/sh\n', { mode: 0o4755 });
  assert.match(asNobody(['cat', join(roots.upperDir('app'), 'suid')]).stderr, /Permission denied/);
});
