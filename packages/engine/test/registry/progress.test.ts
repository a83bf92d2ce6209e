import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryLogger } from '../../src/log';
import { progressLine } from '../../src/registry/progress';

test('download progress: a line every two seconds at most, then the total', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const log = memoryLogger();
  const shown: string[] = [];
  const p = progressLine({
    log: { ...log, progress: (m) => shown.push(m) },
    what: 'pulling docker://r/x:1',
    blobs: 2,
    totalBytes: 4 * 1024 * 1024,
  });
  p.add(1024 * 1024);
  assert.deepEqual(shown, [], 'nothing before two seconds have passed');
  t.mock.timers.tick(2000);
  p.add(1024 * 1024);
  p.blobDone();
  t.mock.timers.tick(500);
  p.add(1024 * 1024);
  assert.deepEqual(shown, ['pulling docker://r/x:1: 50% (2.0 MiB of 4.0 MiB, 0 of 2 blobs)']);
  p.blobDone();
  t.mock.timers.tick(1500);
  p.finish();
  assert.deepEqual(log.lines, ['pulling docker://r/x:1: 2 blobs, 4.0 MiB in 4.0s']);
});

test('a logger without a progress channel gets the progress lines as info', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const log = memoryLogger();
  const p = progressLine({ log, what: 'pulling x', blobs: 1, totalBytes: 100 });
  t.mock.timers.tick(2000);
  p.add(25);
  assert.deepEqual(log.lines, ['pulling x: 25% (0.0 KiB of 0.1 KiB, 0 of 1 blobs)']);
});
