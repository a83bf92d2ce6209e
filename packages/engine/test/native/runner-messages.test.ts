// RunnerStderrSplitter and runnerFailure: telling the runner's lines from the command's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StackerError } from '../../src/errors';
import { RunnerStderrSplitter, runnerFailure } from '../../src/native/runner-messages';

/** Feeds `chunks` through a splitter; returns what went to the output and the messages. */
function split(chunks: string[]) {
  const output: string[] = [];
  const messages: string[] = [];
  const splitter = new RunnerStderrSplitter({
    output: (chunk) => output.push(chunk.toString()),
    message: (line) => messages.push(line),
  });
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  splitter.end();
  return { output: output.join(''), outputCalls: output.length, messages };
}

describe('RunnerStderrSplitter', () => {
  test("passes the command's output through and keeps the runner's lines apart", () => {
    const result = split(['+ make\nnx-stacker-runner: debug: overlay x\nwarning: y\n']);
    assert.equal(result.output, '+ make\nwarning: y\n');
    assert.deepEqual(result.messages, ['nx-stacker-runner: debug: overlay x']);
  });

  test('recognises a runner line split across chunks', () => {
    const result = split(['out\nnx-sta', 'cker-runner: err', 'or: mount: EINVAL\nmore\n']);
    assert.equal(result.output, 'out\nmore\n');
    assert.deepEqual(result.messages, ['nx-stacker-runner: error: mount: EINVAL']);
  });

  test('passes a partial line on at once when it cannot be a runner line', () => {
    const output: string[] = [];
    const splitter = new RunnerStderrSplitter({
      output: (chunk) => output.push(chunk.toString()),
      message: () => assert.fail('no runner line'),
    });
    splitter.push(Buffer.from('progress 10%'));
    assert.deepEqual(output, ['progress 10%']);
    splitter.push(Buffer.from(' nx-stacker-runner: in the middle\n'));
    assert.equal(output.join(''), 'progress 10% nx-stacker-runner: in the middle\n');
  });

  test('releases a held-back line start that never became a runner line', () => {
    assert.equal(split(['nx-st', 'ick\n']).output, 'nx-stick\n');
    assert.equal(split(['nx-']).output, 'nx-');
  });
});

describe('runnerFailure', () => {
  test('turns an exit 125 with an error line into a StackerError with the reason', () => {
    const err = runnerFailure({
      exitCode: 125,
      stderrLines: ['other', 'nx-stacker-runner: error: mount overlay at /r: Invalid argument'],
      step: 'run',
      hint: 'see the log',
    });
    assert.ok(err instanceof StackerError);
    assert.equal(err.message, 'mount overlay at /r: Invalid argument');
    assert.equal(err.where.step, 'run');
    assert.equal(err.hint, 'see the log');
  });

  test('leaves an exit 125 without an error line to the command (its own status)', () => {
    assert.equal(runnerFailure({ exitCode: 125, stderrLines: ['boom'] }), undefined);
    assert.equal(
      runnerFailure({ exitCode: 1, stderrLines: ['nx-stacker-runner: error: x'] }),
      undefined,
    );
  });
});
