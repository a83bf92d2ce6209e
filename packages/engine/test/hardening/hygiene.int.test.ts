/**
 * After a build fails, is aborted, or its run step leaves processes behind, nothing of it
 * remains: no mount in any mount namespace, no process working in its dirs, no temp file
 * or dir, no lock. (Failures with bad input and full disks: bad-files.int.test.ts and
 * full-disk.int.test.ts; kills: packages/cli/test/hardening-crash.int.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildIn, busyboxLayout, errorOf, requireRoot, tempDir, writeFiles } from '../helpers';
import { mountsAnywhere, processesIn, settled, tempLeftovers } from './leftovers';

async function project(dir: string, run: string): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml':
      `app:\n  from:\n    type: oci\n    url: ${await busyboxLayout()}:busybox\n` +
      `  run: |\n    ${run}\n`,
  });
}

async function assertClean(dir: string): Promise<void> {
  assert.deepEqual(await settled(() => processesIn(dir)), [], 'processes left');
  assert.deepEqual(await settled(() => mountsAnywhere(dir)), [], 'mounts left');
  assert.deepEqual(tempLeftovers(dir), [], 'temp files left');
  const locks = readdirSync(join(dir, 'roots')).filter((n) => n.endsWith('.lock'));
  assert.deepEqual(locks, [], 'locks left');
  assert.deepEqual(readdirSync(join(dir, '.stacker', 'builds')), [], 'build still marked running');
}

test('a failing run step that started background processes leaves nothing running', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  // LXC's init waits for the script's orphans (as in stacker): keep them short.
  await project(dir, 'sleep 1 & sleep 2 & echo started; exit 3');
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /exit status 3/);
  await assertClean(dir);
});

test('an aborted build kills the whole container, background processes too', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, 'sleep 300 & sleep 30');
  const controller = new AbortController();
  const pending = buildIn(dir, { signal: controller.signal }).catch((e: unknown) => e);
  const limit = Date.now() + 20_000;
  while (!existsSync(join(dir, 'roots', 'app', 'work'))) {
    assert.ok(Date.now() < limit, 'the run step started');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  controller.abort();
  assert.ok((await pending) instanceof Error);
  await assertClean(dir);
});
