/**
 * Builds running at the same time on shared dirs, through the CLI as users run them: two
 * builds of the same file, and two files whose layers have the same names. No corruption,
 * and where one build must wait for the other it says so, naming the process it waits for.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  mountsAnywhere,
  processesIn,
  settled,
  tempLeftovers,
} from '../../engine/test/hardening/leftovers';
import {
  busyboxLayout,
  requireRoot,
  runCli,
  skopeoManifest,
  tagDigest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../../engine/test/helpers';

const cliBin = join(__dirname, '../bin/nx-stacker.js');

interface Running {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<number | null>;
}

function start(cwd: string, args: string[]): Running {
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd,
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
  });
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  child.stdout?.resume();
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, stderr: () => stderr, done };
}

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const limit = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < limit, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Two layers; the first runs long enough for a second build to arrive while it runs. */
async function sameFileProject(dir: string): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
first:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
  run: sleep 1; echo one > /one
second:
  from:
    type: built
    tag: first
  run: echo two > /two
`,
  });
}

test('two builds of the same file at once: one waits, says for whom, both succeed', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await sameFileProject(dir);

  // B starts once A holds the first layer's lock (A says it builds, then takes the lock).
  const a = start(dir, ['build']);
  await until('A to start building', () => a.stderr().includes('first: building'));
  await new Promise((r) => setTimeout(r, 300));
  const b = start(dir, ['build']);
  const [codeA, codeB] = await Promise.all([a.done, b.done]);
  assert.equal(codeA, 0, a.stderr());
  assert.equal(codeB, 0, b.stderr());
  assert.match(b.stderr(), new RegExp(`first: waiting for build in process ${a.child.pid}\\b`));
  assert.match(b.stderr(), /first: reused the layer the other build produced/);

  // The result is the image an undisturbed build makes, complete and readable.
  const clean = tempDir(t);
  await sameFileProject(clean);
  assert.equal(runCli(['build'], clean).status, 0);
  for (const tag of ['first', 'second']) {
    assert.equal(tagDigest(join(dir, 'oci'), tag), tagDigest(join(clean, 'oci'), tag), tag);
    assert.ok(skopeoManifest(join(dir, 'oci'), tag).layers.length >= 1);
  }
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'second');
  assert.ok(existsSync(join(rootfs, 'one')) && existsSync(join(rootfs, 'two')));

  assert.deepEqual(await settled(() => mountsAnywhere(dir)), []);
  assert.deepEqual(await settled(() => processesIn(dir)), []);
  assert.deepEqual(tempLeftovers(dir), []);
  const locks = readdirSync(join(dir, 'roots')).filter((n) => n.endsWith('.lock'));
  assert.deepEqual(locks, [], 'no lock left behind');
});

test('two files with the same layer names, built at once on shared dirs', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const base = await busyboxLayout();
  for (const name of ['one', 'two']) {
    writeFiles(dir, {
      [`${name}/stacker.yaml`]: `
base:
  from:
    type: oci
    url: ${base}:busybox
  run: sleep 0.5; echo ${name} > /whose
app:
  from:
    type: built
    tag: base
  run: cat /whose > /app
`,
    });
  }
  const shared = ['--roots-dir', join(dir, 'roots'), '--stacker-dir', join(dir, '.stacker')];
  const run = (name: string) =>
    start(dir, [
      ...shared,
      '--oci-dir',
      join(dir, name, 'oci'),
      'build',
      '-f',
      `${name}/stacker.yaml`,
    ]);
  const builds = [run('one'), run('two')];
  const codes = await Promise.all(builds.map((b) => b.done));
  assert.deepEqual(codes, [0, 0], builds.map((b) => b.stderr()).join('\n---\n'));

  // Same names, one upper dir per name: whoever came second waited and said so.
  const waited = builds.filter((b) => /base: waiting for build in process \d+/.test(b.stderr()));
  assert.ok(waited.length >= 1, builds.map((b) => b.stderr()).join('\n---\n'));

  // Each image holds its own file's content, never the other's.
  for (const name of ['one', 'two']) {
    const rootfs = umociUnpack(t, join(dir, name, 'oci'), 'app');
    assert.equal(readFileSync(join(rootfs, 'app'), 'utf8'), `${name}\n`, `${name}'s app`);
  }
  assert.deepEqual(await settled(() => mountsAnywhere(dir)), []);
  assert.deepEqual(tempLeftovers(dir), []);
});
