/**
 * Helpers for the parse tests: stacker files are real files in a temp dir, read back through
 * loadStackerFile as the CLI does.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { StackerError } from '../../src/errors';
import { loadStackerFile } from '../../src/parse';
import type { ParseOptions, StackerFile } from '../../src/parse/types';

/** A temp dir removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-parse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `dir/name` (creating directories) and returns the absolute path. */
export function writeFile(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** What a parse said besides its result. */
export interface Said {
  warnings: string[];
  debug: string[];
}

/** Options with no substitutions that record warnings and debug lines into `said`. */
export function options(extra: Partial<ParseOptions> = {}): ParseOptions & { said: Said } {
  const said: Said = { warnings: [], debug: [] };
  return {
    substitutions: [],
    warn: (m) => said.warnings.push(m),
    debug: (m) => said.debug.push(m),
    ...extra,
    said,
  };
}

/** Writes `text` as `stacker.yaml` in a fresh temp dir and loads it. */
export function parse(
  t: TestContext,
  text: string,
  extra: Partial<ParseOptions> = {},
): StackerFile & { said: Said } {
  const dir = tempDir(t);
  const opts = options(extra);
  const file = loadStackerFile(writeFile(dir, 'stacker.yaml', text), opts);
  return { ...file, said: opts.said };
}

/** The only layer of a one-layer file. */
export function parseLayer(t: TestContext, text: string, extra: Partial<ParseOptions> = {}) {
  const file = parse(t, text, extra);
  assert.equal(file.layers.length, 1);
  return file.layers[0]!;
}

/** Runs `fn`, asserts it throws a StackerError, and returns it. */
export function stackerError(fn: () => unknown): StackerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StackerError) return err;
    throw new assert.AssertionError({
      message: `expected a StackerError, got ${(err as Error)?.stack ?? String(err)}`,
    });
  }
  throw new assert.AssertionError({ message: 'expected a StackerError, nothing was thrown' });
}

/** Expected fields of a parse error; `message` is a substring or a regexp. */
export interface Expected {
  message: string | RegExp;
  line?: number;
  column?: number;
  layer?: string;
  directive?: string;
  hint?: string | RegExp;
}

/** Writes `text`, loads it, and asserts the StackerError it gives, located in that file. */
export function parseError(
  t: TestContext,
  text: string,
  expected: Expected,
  extra: Partial<ParseOptions> = {},
): StackerError {
  const dir = tempDir(t);
  const path = writeFile(dir, 'stacker.yaml', text);
  const err = stackerError(() => loadStackerFile(path, options(extra)));
  assertError(err, { ...expected, file: path });
  return err;
}

/** Asserts the fields of `err` that `expected` names. */
export function assertError(err: StackerError, expected: Expected & { file?: string }): void {
  const matches = (actual: string, want: string | RegExp) =>
    typeof want === 'string' ? actual.includes(want) : want.test(actual);
  assert.ok(matches(err.message, expected.message), `message: ${err.format()}`);
  for (const key of ['file', 'line', 'column', 'layer', 'directive'] as const) {
    if (expected[key] !== undefined) assert.equal(err.where[key], expected[key], err.format());
  }
  if (expected.hint !== undefined) {
    assert.ok(err.hint && matches(err.hint, expected.hint), `hint: ${err.format()}`);
  }
}

/** A minimal valid layer body, to prepend directives to. */
export const FROM_SCRATCH = '  from:\n    type: scratch\n';
