import { parseArgs } from 'node:util';
import type { Logger } from '@nx-stacker/engine';
import type { Dirs } from '../globals';

/** What main.ts hands every command besides build: its arguments and the global state. */
export interface CommandContext {
  /** The arguments after the command name. */
  argv: string[];
  dirs: Dirs;
  log: Logger;
  debug: boolean;
  signal: AbortSignal;
}

type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/** A command line the command cannot take; printed with the command's usage, exit status 2. */
export class CommandUsageError extends Error {}

/**
 * Parses a command's arguments the way stacker's command line does: flags come first, and
 * the first positional argument (or `--`) ends them, so `chroot app ls -l` hands `-l` to ls.
 * More than `maxPositionals` positional arguments, or an unknown flag, is a usage error.
 */
export function parseCommandArgs(
  argv: string[],
  options: Options,
  usage: string,
  maxPositionals: number,
): { values: Record<string, unknown>; positionals: string[] } {
  const end = flagsEnd(argv, options);
  const positionals = argv.slice(argv[end] === '--' ? end + 1 : end);
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv.slice(0, end), options, strict: true }).values;
  } catch (err) {
    throw new CommandUsageError(`${(err as Error).message}\n\n${usage}`);
  }
  if (positionals.length > maxPositionals && !values.help) {
    const extra = positionals.slice(maxPositionals).join(' ');
    throw new CommandUsageError(`unexpected argument(s): ${extra}\n\n${usage}`);
  }
  return { values, positionals };
}

/** Index of the first argument that is neither a flag nor a flag's value. */
function flagsEnd(argv: string[], options: Options): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') return i;
    if (arg.includes('=')) continue;
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : Object.keys(options).find((k) => options[k]?.short === arg.slice(1));
    if (name !== undefined && options[name]?.type === 'string') i++;
  }
  return argv.length;
}

/**
 * Runs a command, turning a CommandUsageError into stacker's `error: …` with the usage on
 * stderr and exit status 2; `--help` is the command's business. Other errors propagate to
 * main.ts, which reports them.
 */
export async function runCommand(fn: () => Promise<number> | number): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof CommandUsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
}

/** Prints `usage` for `--help`; true when it did. */
export function printedHelp(values: Record<string, unknown>, usage: string): boolean {
  if (!values.help) return false;
  process.stdout.write(usage);
  return true;
}
