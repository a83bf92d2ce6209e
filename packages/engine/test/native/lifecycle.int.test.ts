// What outlives a run: nothing. Neither a mount (in any mount namespace) nor a process,
// whether the runner is killed with SIGKILL or SIGTERM, or the caller aborts.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { StackerError } from '../../src/errors';
import { loadExeca } from '../../src/native/execa';
import { runArguments, runContainer, runnerExecutable } from '../../src/native/runner';
import {
  eventually,
  makeStack,
  mountedAnywhere,
  needsRoot,
  removeStack,
  runOptions,
  type Stack,
  sleepersFor,
} from './helpers';

/** A command that says "started" and then sleeps for a duration unique to this call. */
function sleeper(): { command: string[]; duration: string } {
  const duration = `${Math.floor(Math.random() * 1e6) + 1000}.5`;
  return { command: ['/bin/sh', '-c', `echo started; exec sleep ${duration}`], duration };
}

/** Resolves once `stream` has carried the word "started". */
function startedOn(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('started')) resolve();
    });
  });
}

/**
 * Starts the runner directly (to signal it) and waits until the command has started. The
 * subprocess is wrapped: returning execa's thenable itself would await the process's end.
 */
async function startRunner(stack: Stack, command: string[]) {
  const { execa } = await loadExeca();
  const runner = execa(runnerExecutable(), runArguments(runOptions(stack, command)), {
    reject: false,
    buffer: false,
  });
  await startedOn(runner.stdout);
  return { runner };
}

describe('a run outlived by nothing', { skip: needsRoot }, () => {
  let stack: Stack;
  let stop: (() => void) | undefined;
  beforeEach(() => {
    stack = makeStack();
  });
  afterEach(() => {
    stop?.();
    stop = undefined;
    removeStack(stack);
  });

  test('SIGKILL of the runner mid-command leaves no mount and no process behind', async () => {
    const { command, duration } = sleeper();
    const { runner } = await startRunner(stack, command);
    stop = () => runner.kill('SIGKILL');
    // "started" is printed just before the shell execs sleep.
    assert.ok(await eventually(() => sleepersFor(duration).length === 1), 'the command runs');
    assert.equal(mountedAnywhere(stack.rootfs), true, 'the overlay is mounted meanwhile');

    runner.kill('SIGKILL');
    const result = await runner;
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(await eventually(() => sleepersFor(duration).length === 0), 'no process left');
    assert.ok(await eventually(() => !mountedAnywhere(stack.rootfs)), 'no mount left');
  });

  test('SIGTERM to the runner kills the container, waits for it and exits 128+15', async () => {
    const { command, duration } = sleeper();
    const { runner } = await startRunner(stack, command);
    stop = () => runner.kill('SIGKILL');

    runner.kill('SIGTERM');
    const result = await runner;
    assert.equal(result.exitCode, 143);
    assert.deepEqual(sleepersFor(duration), []);
    assert.equal(mountedAnywhere(stack.rootfs), false);
  });

  test('the runner stops its container when the process that started it dies', async () => {
    const { command, duration } = sleeper();
    const { execa } = await loadExeca();
    const args = runArguments(runOptions(stack, command));
    const caller = execa('/bin/sh', ['-c', '"$@" & wait', 'sh', runnerExecutable(), ...args], {
      reject: false,
      buffer: false,
    });
    stop = () => caller.kill('SIGKILL');
    await startedOn(caller.stdout);

    caller.kill('SIGKILL');
    await caller;
    assert.ok(await eventually(() => sleepersFor(duration).length === 0), 'no process left');
    assert.ok(await eventually(() => !mountedAnywhere(stack.rootfs)), 'no mount left');
  });

  test('aborting the signal kills the container, unmounts and rejects', async () => {
    const { command, duration } = sleeper();
    const controller = new AbortController();
    stop = () => controller.abort();
    const run = runContainer({
      ...runOptions(stack, command),
      signal: controller.signal,
      onOutput: (chunk) => {
        if (chunk.toString().includes('started')) controller.abort();
      },
    });
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof StackerError);
      assert.equal(err.where.step, 'run');
      assert.match(err.message, /cancelled/);
      return true;
    });
    assert.deepEqual(sleepersFor(duration), []);
    assert.equal(mountedAnywhere(stack.rootfs), false);
  });

  test('a run that ends normally leaves nothing mounted', async () => {
    const result = await runContainer(runOptions(stack, ['/bin/true']));
    assert.equal(result.exitCode, 0);
    assert.equal(mountedAnywhere(stack.rootfs), false);
  });
});
