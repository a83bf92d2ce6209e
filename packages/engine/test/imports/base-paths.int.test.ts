import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { baseDestResolver } from '../../src/imports/base-paths';
import { requireRoot, tempDir, writeFiles } from '../helpers';

// A usr-merged base layer, plus links of every kind.
function bottomLayer(dir: string): string {
  const layer = join(dir, 'bottom');
  writeFiles(layer, { 'usr/lib/libc.so': 'libc', 'etc/conf': 'c' });
  symlinkSync('usr/lib', join(layer, 'lib'));
  symlinkSync('/usr', join(layer, 'abs'));
  symlinkSync('../usr/lib/../lib', join(layer, 'etc/up'));
  symlinkSync('etc/conf', join(layer, 'file-link'));
  symlinkSync('loop', join(layer, 'loop'));
  return layer;
}

/** The resolver over bottomLayer (in a fresh temp dir) and `upper` layers; `dirAt` follows all. */
function resolverOn(t: TestContext, upper: string[] = []) {
  const resolve = baseDestResolver({ baseLayers: [bottomLayer(tempDir(t)), ...upper] });
  return { resolve, dirAt: (p: string) => resolve(p, { followFinal: true }) };
}

test('a dest follows the base image symlinks on its way; new parts are kept', async (t) => {
  if (!requireRoot(t)) return;
  const { resolve, dirAt } = resolverOn(t);

  assert.equal(await dirAt('/lib/modules'), '/usr/lib/modules');
  assert.equal(await dirAt('/lib'), '/usr/lib');
  assert.equal(await resolve('/lib', { followFinal: false }), '/lib');
  assert.equal(await dirAt('/abs/lib/x'), '/usr/lib/x');
  assert.equal(await dirAt('etc/up/x'), '/usr/lib/x');
  assert.equal(await dirAt('/new/a/../b'), '/new/b');
});

test('a dest through a file, or onto a link to a file or a loop, is kept as written', async (t) => {
  if (!requireRoot(t)) return;
  const { dirAt } = resolverOn(t);

  assert.equal(await dirAt('/file-link'), '/file-link');
  assert.equal(await dirAt('/etc/conf/x'), '/etc/conf/x');
  assert.equal(await dirAt('/loop/x'), '/loop/x');
});

test('a link deleted by a whiteout in a higher layer no longer counts', async (t) => {
  if (!requireRoot(t)) return;
  const top = join(tempDir(t), 'top');
  mkdirSync(top);
  execFileSync('mknod', [join(top, 'lib'), 'c', '0', '0']);

  const { resolve } = resolverOn(t, [top]);
  assert.equal(await resolve('/lib/modules', { followFinal: true }), '/lib/modules');
});
