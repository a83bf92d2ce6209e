import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  busyboxLayout,
  mountsUnder,
  requireRoot,
  runCli,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../../engine/test/helpers';

const cliBin = join(__dirname, '../bin/nx-stacker.js');

async function project(dir: string): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
parent:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
  run: echo \${{GREETING:hi}} > /greeting
child:
  from:
    type: built
    tag: parent
  run: cat /greeting
`,
  });
}

test('--help lists the build command and exits 0', () => {
  const r = runCli(['--help'], process.cwd());
  assert.equal(r.status, 0);
  assert.match(r.stdout, /build\s+builds a new OCI image/);
});

test('--version names the version and the liblxc the runner uses, as stacker does', () => {
  const r = runCli(['--version'], process.cwd());
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^nx-stacker \d+\.\d+\.\d+ liblxc \d+\.\d+\.\d+\n$/);
});

test('an unknown command or flag is a usage error with exit status 2', () => {
  const r = runCli(['frobnicate'], process.cwd());
  assert.equal(r.status, 2);
  assert.match(r.stderr, /error: No help topic for 'frobnicate'/);
  const f = runCli(['build', '--frobnicate'], process.cwd());
  assert.equal(f.status, 2);
  assert.match(f.stderr, /--frobnicate/);
  assert.match(f.stderr, /--stacker-file/);
});

test("build writes stacker's default dirs so umoci can unpack oci:<layer>", async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir);

  const r = runCli(['build', '--substitute', 'GREETING=hello'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello/, 'run output is streamed to stdout');
  assert.match(r.stderr, /parent: building \(not built before\)/);
  for (const d of ['.stacker', 'roots', 'oci']) assert.ok(existsSync(join(dir, d)), d);

  const rootfs = umociUnpack(t, join(dir, 'oci'), 'child');
  assert.ok(existsSync(join(rootfs, 'greeting')));

  const again = runCli(['build', '--substitute', 'GREETING=hello'], dir);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /parent: reused cached layer/);
  assert.match(again.stderr, /child: reused cached layer/);
  assert.match(again.stderr, /done: 0 built, 2 reused/);
});

test('-q keeps the output of run steps but no progress messages', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': `
failing:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
  run: |
    echo "apt said: no such package"
    exit 3
`,
  });
  const r = runCli(['-q', 'build'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /apt said: no such package/, 'why the step failed is shown');
  assert.doesNotMatch(r.stderr, /building \(/, 'no progress messages');
  assert.match(r.stderr, /^error: .*failing/m);
});

test('--order-only prints the build order and builds nothing', async (t) => {
  const dir = tempDir(t);
  await project(dir);
  const r = runCli(['build', '--order-only'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 build stacker\.yaml: requires: \[\]/);
  assert.match(r.stderr, /layers: parent, child/);
  assert.ok(!existsSync(join(dir, 'oci')));
});

test('a bad stacker file fails with the file, line and a hint, and no stack trace', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'stacker.yaml': 'a:\n  from:\n    type: scratch\n  rnu: true\n' });
  const r = runCli(['build'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*stacker\.yaml:4:3: .*rnu/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --debug');
});

test('a user without subordinate ids is told what to do before anything happens', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  chmodSync(dir, 0o777);
  writeFiles(dir, { 'stacker.yaml': 'a:\n  from:\n    type: scratch\n' });
  const r = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliBin, 'build'],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /no idmap and not root, can't run nx-stacker as nobody/);
  assert.match(r.stderr, /hint: .*sudo nx-stacker unpriv-setup --username nobody/);
  assert.ok(!existsSync(join(dir, 'roots')), 'nothing created');
});

test('--debug shows the overlay lower dirs, the container config and the liblxc log', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir);
  const r = runCli(['--debug', 'build'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /overlay lower dirs \(top first\): .*sha256_/);
  assert.match(r.stderr, /lxc\.uts\.name = stacker/);
  assert.match(r.stderr, /liblxc log: .*lxc-parent\.log/);
});

test('two builds of different files at once share roots, stacker and OCI dirs', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const base = await busyboxLayout();
  for (const name of ['one', 'two']) {
    writeFiles(dir, {
      [`${name}/stacker.yaml`]: `
${name}-a:
  from:
    type: oci
    url: ${base}:busybox
  run: for i in 1 2 3; do echo ${name} $i >> /${name}; sleep 0.1; done
${name}-b:
  from:
    type: built
    tag: ${name}-a
  run: cat /${name}
`,
    });
  }
  const shared = ['--roots-dir', join(dir, 'roots'), '--stacker-dir', join(dir, '.stacker')];
  const run = (name: string) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [cliBin, ...shared, '--oci-dir', join(dir, 'oci'), 'build', '-f', `${name}/stacker.yaml`],
        { cwd: dir, env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } },
      );
      let stderr = '';
      child.stderr.on('data', (c) => {
        stderr += c;
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
  const [one, two] = await Promise.all([run('one'), run('two')]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  for (const tag of ['one-a', 'one-b', 'two-a', 'two-b']) {
    assert.ok(existsSync(join(umociUnpack(t, join(dir, 'oci'), tag), tag.slice(0, 3))), tag);
  }
  assert.deepEqual(mountsUnder(dir), []);
});
