import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findExports, restoreExport } from '../../src/build/export';
import { OciLayout } from '../../src/oci/layout';
import { buildIn, busyboxLayout, fromBusybox, requireRoot, tempDir, writeFiles } from '../helpers';

async function exportedChain(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': `
base:
${await fromBusybox()}
  run: echo base > /base
top:
  from:
    type: built
    tag: base
  run: echo top > /top
`,
  });
  const exports = join(dir, 'exports');
  const { summary } = await buildIn(dir, { exportDir: exports });
  return { exports, keyOf: (name: string) => summary.layers.find((l) => l.name === name)!.key };
}

test('restoring skips work in progress and survives an export that vanishes meanwhile', async (t) => {
  if (!requireRoot(t)) return;
  const { exports, keyOf } = await exportedChain(t);
  // What a sibling Nx task replacing its output leaves for a moment: the old output, aside.
  cpSync(join(exports, 'base'), join(exports, '.replaced-1-abcd'), { recursive: true });
  const found = findExports([exports]);
  assert.deepEqual(found.map((e) => e.entry.name).sort(), ['base', 'top']);

  rmSync(join(exports, 'base'), { recursive: true }); // replaced between listing and reading
  const target = await OciLayout.open(join(tempDir(t), 'oci'), { create: true });
  const extraLayouts = [await OciLayout.open(await busyboxLayout(), { create: false })];
  const restored = await restoreExport({
    key: keyOf('top'),
    exports: found,
    layout: target,
    extraLayouts,
  });
  assert.equal(restored, undefined, "top cannot be completed without base's blobs: rebuild");
});

test('opening a layout to read it writes nothing into it', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'l'));
  cpSync(join(await busyboxLayout(), 'index.json'), join(dir, 'l', 'index.json'));
  cpSync(join(await busyboxLayout(), 'oci-layout'), join(dir, 'l', 'oci-layout'));
  await OciLayout.open(join(dir, 'l'), { create: false });
  assert.ok(!existsSync(join(dir, 'l', 'blobs')), 'no blobs/sha256 made');
});
