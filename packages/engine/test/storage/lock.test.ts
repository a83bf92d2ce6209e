import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { acquireLock } from '../../src/storage/lock';
import { processStartTime } from '../../src/util/process';

function lockPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'lock');
}

/** A pid no process has (the kernel's pid_max is far below it). */
const DEAD_PID = 2 ** 30;

test('a lock names its holder by pid and start time, and is gone once released', async (t) => {
  const path = lockPath(t);
  const lock = await acquireLock(path);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid} ${processStartTime(process.pid)}\n`);
  lock.release();
  assert.equal(existsSync(path), false);
});

test('a lock left by a dead process is taken over', async (t) => {
  const path = lockPath(t);
  writeFileSync(path, `${DEAD_PID} 12345\n`);
  (await acquireLock(path)).release();
  writeFileSync(path, `${DEAD_PID}\n`); // as versions without start times wrote it
  (await acquireLock(path)).release();
});

test('a lock naming no owner (writer killed first) is taken over after a second', async (t) => {
  const path = lockPath(t);
  writeFileSync(path, '');
  const old = new Date(Date.now() - 5000);
  utimesSync(path, old, old);
  (await acquireLock(path)).release();

  // A fresh empty lock may still be being written by an older version: waited for a while.
  writeFileSync(path, '');
  const started = Date.now();
  (await acquireLock(path)).release();
  assert.ok(Date.now() - started >= 900, 'waited for the grace second');
  assert.deepEqual(readdirSync(dirname(path)), [], 'no temp file or lock left');
});

test('a lock whose pid now belongs to another process is taken over', async (t) => {
  const path = lockPath(t);
  // Our parent is alive, but it did not start at tick 1: the lock's holder is long gone.
  writeFileSync(path, `${process.ppid} 1\n`);
  (await acquireLock(path)).release();
});

test("a live holder's lock is waited for; onWait hears its pid once", async (t) => {
  const path = lockPath(t);
  writeFileSync(path, `${process.ppid} ${processStartTime(process.ppid)}\n`);
  const waitedFor: number[] = [];
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  await assert.rejects(
    acquireLock(path, { onWait: (pid) => waitedFor.push(pid), signal: controller.signal }),
  );
  assert.deepEqual(waitedFor, [process.ppid]);
});

test('the start time is read past a command name holding spaces and parentheses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-comm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const odd = join(dir, 'x) 1 2 (y');
  copyFileSync('/bin/sleep', odd);
  const child = spawn(odd, ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const start = processStartTime(child.pid as number);
  assert.match(start ?? '', /^\d+$/);
  assert.ok(stat.endsWith('\n') && stat.includes(` ${start} `), stat);
  assert.equal(processStartTime(DEAD_PID), undefined);
});

test('a lock whose name is near the file-name limit can be taken', async (t) => {
  const path = join(dirname(lockPath(t)), `.${'l'.repeat(240)}.lock`);
  const lock = await acquireLock(path);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid} ${processStartTime(process.pid)}\n`);
  lock.release();
  assert.deepEqual(readdirSync(dirname(path)), []);
});
