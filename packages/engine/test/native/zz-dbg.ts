import { test } from 'node:test';
import { loadExeca } from '../../src/native/execa';
import { runArguments, runnerExecutable } from '../../src/native/runner';
import { makeStack, runOptions } from './helpers';
test('x', async () => {
  const stack = makeStack();
  const { execa } = await loadExeca();
  const runner = execa(runnerExecutable(), runArguments(runOptions(stack, ['/bin/sh','-c','echo started; exec sleep 3.5'])), { reject: false, buffer: false });
  runner.stdout.on('data', (c: any) => console.log('DATA', Date.now(), JSON.stringify(String(c))));
  console.log('T0', Date.now());
  const r = await runner;
  console.log('exit', Date.now(), r.exitCode);
});
