import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerOutcome } from '../src/engine';
import { createReporter } from '../src/executors/build/reporter';

function outcome(name: string, status: LayerOutcome['status']): LayerOutcome {
  return {
    name,
    file: '/ws/img/stacker.yaml',
    key: 'k'.repeat(64),
    status,
    reason: status === 'built' ? 'not built before' : 'inputs unchanged',
    buildOnly: false,
    manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'x', size: 1 },
    bytes: 0,
    seconds: 0,
  };
}

/** What a task's output shows for `outcomes`, each marked exported or not. */
function shown(verbose: boolean, outcomes: [LayerOutcome, boolean][]): string {
  let text = '';
  const sink = { out: (t: string | Buffer) => (text += t.toString()), err: () => {} };
  const reporter = createReporter({ workspaceRoot: '/ws', verbose, sink });
  for (const [o, exported] of outcomes) reporter.outcome(o, exported);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: colours are stripped on purpose
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

test('a layer task shows its own layer, not the layers it only stood on', () => {
  const text = shown(false, [
    [outcome('base', 'reused'), false],
    [outcome('mid', 'restored'), false],
    [outcome('app', 'reused'), true],
  ]);
  assert.equal(text.trim().split('\n').length, 1, text);
  assert.match(text, /✔ app reused/);
});

test('a layer the task had to build is shown even when another task exports it', () => {
  const text = shown(false, [
    [outcome('base', 'built'), false],
    [outcome('app', 'built'), true],
  ]);
  assert.match(text, /✔ base built/);
  assert.match(text, /✔ app built/);
});

test('with verbose, every layer is shown', () => {
  const text = shown(true, [
    [outcome('base', 'reused'), false],
    [outcome('app', 'reused'), true],
  ]);
  assert.match(text, /✔ base reused/);
  assert.match(text, /✔ app reused/);
});
