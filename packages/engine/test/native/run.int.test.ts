// The runner's `run` mode through runContainer: a real overlay stack and a real LXC container
// on a busybox rootfs.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StackerError } from '../../src/errors';
import { CONTAINER_PATH } from '../../src/native/lxc-config';
import { runContainer } from '../../src/native/runner';
import { readXattrs } from '../../src/native/xattrs';
import {
  makeBusyboxDir,
  makeStack,
  mountedAnywhere,
  needsRoot,
  removeStack,
  runOptions,
  type Stack,
  writeConfig,
} from './helpers';

/** Runs `script` with sh in a container on `stack`; returns the exit code and all output. */
async function runSh(stack: Stack, script: string) {
  const chunks: Buffer[] = [];
  const result = await runContainer({
    ...runOptions(stack, ['/bin/sh', '-c', script]),
    onOutput: (chunk) => chunks.push(chunk),
  });
  return { ...result, output: Buffer.concat(chunks).toString() };
}

describe('runContainer', { skip: needsRoot }, () => {
  let stack: Stack;
  before(() => {
    stack = makeStack();
  });
  after(() => removeStack(stack));

  test('returns the exit code of the command and its output', async () => {
    const result = await runSh(stack, 'echo hi; echo oops >&2; exit 3');
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, undefined);
    assert.equal(result.output.split('\n').sort().join(' ').trim(), 'hi oops');
    assert.equal(mountedAnywhere(stack.rootfs), false);
  });

  test('streams output while the command still runs', async () => {
    let firstAt = 0;
    const started = Date.now();
    await runContainer({
      ...runOptions(stack, ['/bin/sh', '-c', 'echo first; sleep 0.5; echo second']),
      onOutput: (chunk) => {
        if (!firstAt && chunk.toString().includes('first')) firstAt = Date.now();
      },
    });
    const ended = Date.now();
    assert.ok(firstAt > 0, 'the first line arrived');
    assert.ok(ended - firstAt >= 400, `first line came ${ended - firstAt} ms before the end`);
    assert.ok(ended - started < 5000);
  });

  test('ends with the command: processes it left behind are stopped, its status kept', async () => {
    // Without this the container would live as long as `sleep 600`: LXC's init waits for
    // every process, and so would the build.
    const started = Date.now();
    const result = await runSh(stack, 'sh -c \'trap "" TERM; sleep 600\' & sleep 600 & exit 4');
    assert.equal(result.exitCode, 4);
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
    assert.equal(mountedAnywhere(stack.rootfs), false);
  });

  test('reports a command killed by signal N as exit code 128+N', async () => {
    const result = await runSh(stack, 'kill -9 $$');
    assert.equal(result.exitCode, 137);
  });

  test('gives the command /dev/null as stdin', async () => {
    const result = await runSh(stack, 'cat; echo "stdin ended"');
    assert.equal(result.output, 'stdin ended\n');
  });

  test('lands files written by the command in the upper dir', async () => {
    const result = await runSh(stack, 'mkdir -p /made && echo content > /made/file');
    assert.equal(result.exitCode, 0);
    assert.equal(readFileSync(join(stack.upper, 'made', 'file'), 'utf8'), 'content\n');
    assert.equal(existsSync(join(stack.lower, 'made')), false);
  });

  test('deleting a lower file leaves a 0:0 char device whiteout in the upper dir', async () => {
    const result = await runSh(stack, 'rm /etc/lowerfile && test ! -e /etc/lowerfile');
    assert.equal(result.exitCode, 0);
    const whiteout = lstatSync(join(stack.upper, 'etc', 'lowerfile'));
    assert.ok(whiteout.isCharacterDevice());
    assert.equal(whiteout.rdev, 0);
    assert.ok(existsSync(join(stack.lower, 'etc', 'lowerfile')));
  });

  test('replacing a lower dir marks it opaque with user.overlay.opaque', async () => {
    mkdirSync(join(stack.lower, 'opaque-me'), { recursive: true });
    writeFileSync(join(stack.lower, 'opaque-me', 'old'), 'old');
    const result = await runSh(stack, 'rm -r /opaque-me && mkdir /opaque-me && ls /opaque-me');
    assert.equal(result.exitCode, 0);
    assert.equal(result.output, '');
    const xattrs = await readXattrs(stack.upper, { stripOverlay: false });
    assert.equal(xattrs.get('opaque-me')?.get('user.overlay.opaque')?.toString(), 'y');
  });

  test('has hostname stacker', async () => {
    const result = await runSh(stack, 'hostname');
    assert.equal(result.output, 'stacker\n');
  });
});

describe('runContainer config', { skip: needsRoot }, () => {
  test('sets the environment items, PATH first and overridable', async () => {
    const stack = makeStack();
    writeConfig(stack, { env: [['GREETING', 'hello world']] });
    const plain = await runSh(stack, 'echo "$GREETING|$PATH"');
    assert.equal(plain.output, `hello world|${CONTAINER_PATH}\n`);

    writeConfig(stack, { env: [['PATH', '/bin']] });
    const overridden = await runSh(stack, 'echo "$PATH"');
    assert.equal(overridden.output, '/bin\n');
    removeStack(stack);
  });

  test('a read-only bind cannot be written, a read-write one can (paths with spaces)', async () => {
    const stack = makeStack();
    const ro = join(stack.base, 'read only');
    const rw = join(stack.base, 'read write');
    mkdirSync(ro);
    mkdirSync(rw);
    writeFileSync(join(ro, 'given'), 'given\n');
    writeConfig(stack, {
      binds: [
        { source: ro, dest: '/mnt/read only', readOnly: true, isDir: true },
        { source: rw, dest: '/mnt/rw', readOnly: false, isDir: true },
      ],
    });
    const script =
      'cat "/mnt/read only/given"; touch "/mnt/read only/x" 2>/dev/null || echo refused; ' +
      'echo written > /mnt/rw/out';
    const result = await runSh(stack, script);
    assert.equal(result.output, 'given\nrefused\n');
    assert.equal(existsSync(join(ro, 'x')), false);
    assert.equal(readFileSync(join(rw, 'out'), 'utf8'), 'written\n');
    removeStack(stack);
  });

  test('with no lower dir, runs on an empty workaround lower dir', async () => {
    const stack = makeStack();
    const tools = makeBusyboxDir(join(stack.base, 'tools'));
    writeConfig(stack, {
      binds: [{ source: join(tools, 'bin'), dest: '/bin', readOnly: true, isDir: true }],
    });
    const result = await runContainer({
      ...runOptions(stack, ['/bin/sh', '-c', 'ls /etc 2>/dev/null || echo empty']),
      lowers: [],
      onOutput: () => {},
    });
    assert.equal(result.exitCode, 0);
    assert.ok(lstatSync(join(stack.base, 'workaround')).isDirectory());
    removeStack(stack);
  });

  test('mounts a stack whose options exceed one page (one lowerdir+ per layer)', async () => {
    const stack = makeStack();
    const lowers: string[] = [];
    for (let i = 0; i < 45; i++) {
      const dir = join(stack.base, `layer-${String(i).padStart(2, '0')}-${'x'.repeat(90)}`);
      mkdirSync(join(dir, 'layers'), { recursive: true });
      writeFileSync(join(dir, 'layers', `${i}`), '');
      writeFileSync(join(dir, 'layers', 'top'), `${i}`);
      lowers.push(dir);
    }
    assert.ok(lowers.join(':').length > 4096);
    const chunks: Buffer[] = [];
    const result = await runContainer({
      ...runOptions(stack, ['/bin/sh', '-c', 'ls /layers | wc -l; cat /layers/top']),
      lowers: [...lowers.reverse(), stack.lower],
      onOutput: (chunk) => chunks.push(chunk),
    });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(Buffer.concat(chunks).toString().split(/\s+/).filter(Boolean), ['46', '44']);
    removeStack(stack);
  });

  test('mounts a lower dir whose path is longer than 255 bytes', async () => {
    const stack = makeStack();
    const deep = join(stack.base, 'a'.repeat(150), 'b'.repeat(150));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'from-deep'), 'deep\n');
    const chunks: Buffer[] = [];
    const result = await runContainer({
      ...runOptions(stack, ['/bin/cat', '/from-deep']),
      lowers: [deep, stack.lower],
      onOutput: (chunk) => chunks.push(chunk),
    });
    assert.equal(result.exitCode, 0);
    assert.equal(Buffer.concat(chunks).toString(), 'deep\n');
    removeStack(stack);
  });

  test('with debug, reports the overlay options and config items it sets', async () => {
    const stack = makeStack();
    const debug: string[] = [];
    const result = await runContainer({
      ...runOptions(stack, ['/bin/true']),
      debug: true,
      onDebug: (line) => debug.push(line),
    });
    assert.equal(result.exitCode, 0);
    const overlay = debug.find((l) => l.includes('lowerdir='));
    assert.ok(overlay?.includes(`upperdir=${stack.upper},workdir=${stack.work},userxattr`));
    assert.ok(debug.some((l) => l.includes(`lxc.rootfs.path = ${stack.rootfs}`)));
    removeStack(stack);
  });
});

describe('runContainer failures', { skip: needsRoot }, () => {
  test('an LXC start failure is a StackerError of step run with the LXC reason', async () => {
    const stack = makeStack();
    writeConfig(stack, {
      binds: [{ source: '/nonexistent-nxs', dest: '/x', readOnly: false, isDir: true }],
    });
    await assert.rejects(runContainer(runOptions(stack, ['/bin/true'])), (err: unknown) => {
      assert.ok(err instanceof StackerError);
      assert.equal(err.where.step, 'run');
      assert.match(err.message, /start lxc container .*Failed to mount "\/nonexistent-nxs"/);
      return true;
    });
    assert.equal(mountedAnywhere(stack.rootfs), false);
    removeStack(stack);
  });

  test('a lower dir with a colon is refused before anything is mounted', async () => {
    const stack = makeStack();
    const colon = join(stack.base, 'a:b');
    mkdirSync(colon);
    await assert.rejects(
      runContainer({ ...runOptions(stack, ['/bin/true']), lowers: [colon] }),
      /overlay lower '.*a:b': overlay paths cannot contain ':'/,
    );
    removeStack(stack);
  });

  test('a missing lower dir is reported with its path', async () => {
    const stack = makeStack();
    const missing = join(stack.base, 'missing');
    await assert.rejects(
      runContainer({ ...runOptions(stack, ['/bin/true']), lowers: [missing] }),
      (err: unknown) => err instanceof StackerError && err.message.includes(missing),
    );
    removeStack(stack);
  });
});
