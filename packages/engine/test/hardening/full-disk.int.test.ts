/**
 * A full disk: the OCI dir (or the roots dir) on a small tmpfs that a build fills up. The
 * build fails saying there is no space left, in which step and where; the image built before
 * stays tagged and readable; nothing half-written stays behind; and once there is room again
 * the next build works.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  buildIn,
  busyboxLayout,
  errorOf,
  requireRoot,
  skopeoConfig,
  tagDigest,
  umociUnpack,
  writeFiles,
} from '../helpers';
import { mountsAnywhere, processesIn, settled, tempLeftovers } from './leftovers';

/**
 * A temp dir for the test with a tmpfs of `size` mounted on `<dir>/<sub>`; unmounted, then
 * removed, when the test ends.
 */
function dirWithSmallDisk(t: TestContext, sub: string, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-disk-'));
  mkdirSync(join(dir, sub));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', join(dir, sub)]);
  t.after(() => {
    execFileSync('umount', ['-l', join(dir, sub)]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function project(dir: string, base: string, run: string): void {
  writeFiles(dir, {
    'stacker.yaml': `app:\n  from:\n    type: oci\n    url: ${base}:busybox\n  run: ${run}\n`,
  });
}

test('a full OCI dir during pack keeps the previous image and says so', async (t) => {
  if (!requireRoot(t)) return;
  const dir = dirWithSmallDisk(t, 'oci', '6m');
  const oci = join(dir, 'oci');
  const base = await busyboxLayout();
  project(dir, base, 'echo small > /small');
  await buildIn(dir);
  const before = tagDigest(oci, 'app');
  assert.ok(before);

  // 8 MB that do not compress cannot fit in what is left of 6 MB.
  project(dir, base, 'head -c 8000000 /dev/urandom > /big');
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /no space left on device/i);
  assert.equal(err.where.step, 'pack', err.format());
  assert.equal(err.where.layer, 'app');
  assert.match(err.format(), new RegExp(oci));
  assert.match(err.hint ?? '', /images already tagged .* are unchanged/);

  // The previous image: same tag, complete, readable by umoci and skopeo.
  assert.equal(tagDigest(oci, 'app'), before);
  const rootfs = umociUnpack(t, oci, 'app');
  execFileSync('test', ['-f', join(rootfs, 'small')]);
  assert.ok(skopeoConfig(oci, 'app').rootfs.diff_ids.length >= 1);
  assert.deepEqual(tempLeftovers(dir), [], 'no half-written blob');
  assert.deepEqual(await settled(() => mountsAnywhere(dir).filter((m) => m !== oci)), []);
  assert.deepEqual(await settled(() => processesIn(dir)), []);

  // With room again, the build works.
  project(dir, base, 'head -c 100000 /dev/urandom > /big');
  const { summary } = await buildIn(dir);
  assert.equal(summary.layers[0]?.status, 'built');
  assert.notEqual(tagDigest(oci, 'app'), before);
});

test('a full roots dir while extracting a base fails cleanly and names the step', async (t) => {
  if (!requireRoot(t)) return;
  const dir = dirWithSmallDisk(t, 'roots', '512k');
  project(dir, await busyboxLayout(), '"true"');
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /no space left on device/i);
  assert.equal(err.where.step, 'base', err.format());
  assert.equal(tagDigest(join(dir, 'oci'), 'app'), undefined);
  assert.deepEqual(tempLeftovers(dir), [], 'the partial extraction is gone');
});
