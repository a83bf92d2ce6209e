import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { otherActiveProcesses, registerBuild } from '../../src/build/activity';
import { assertNoOtherUser } from '../../src/clean/busy';
import { processStartTime } from '../../src/util/process';

function stackerDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-activity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'builds'));
  return dir;
}

const mark = (dir: string, pid: number, content: string) =>
  writeFileSync(join(dir, 'builds', String(pid)), content);

test('a running build is seen by clean; a finished one is not', (t) => {
  const dir = stackerDir(t);
  mark(dir, process.ppid, processStartTime(process.ppid) ?? '');
  assert.deepEqual(otherActiveProcesses(dir), [process.ppid]);
  assert.throws(() => assertNoOtherUser(dir, 'clean'), /process \d+ \(.*\) is using/);
});

test('marks of dead builds, and of pids now used by other processes, are swept away', (t) => {
  const dir = stackerDir(t);
  mark(dir, 2 ** 30, '');
  mark(dir, process.ppid, '1'); // our parent did not start at tick 1: a reused pid
  assert.deepEqual(otherActiveProcesses(dir), []);
  assert.doesNotThrow(() => assertNoOtherUser(dir, 'clean'));

  const build = registerBuild(dir);
  assert.deepEqual(readdirSync(join(dir, 'builds')), [String(process.pid)]);
  assert.equal(build.alone(), true);
  build.done();
  assert.deepEqual(readdirSync(join(dir, 'builds')), []);
});
