import { parseArgs } from 'node:util';
import { ENGINE_VERSION, isStackerError, type Logger } from '@nx-stacker/engine';
import { type BuildFlags, buildCommand, buildOptions } from './commands/build';
import { type GlobalFlags, globalOptions, resolveDirs } from './globals';
import { cliLogger } from './logger';
import { BUILD_USAGE, MAIN_USAGE } from './usage';

/** Exit statuses: 0 success, 1 any failure, 2 bad usage, 130 interrupted. */
class UsageError extends Error {}

/** Runs the CLI on `argv` (without node and script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // Global flags come before the command, as in stacker.
    const split = commandIndex(argv);
    const globalArgs = split < 0 ? argv : argv.slice(0, split);
    const [command, ...rest] = split < 0 ? [] : argv.slice(split);
    const globals = parse(globalArgs, globalOptions, MAIN_USAGE) as GlobalFlags & {
      help?: boolean;
      version?: boolean;
    };
    debug = globals.debug ?? false;
    if (globals.debug && globals.quiet)
      throw new UsageError("debug and quiet don't make sense together");
    if (globals.version) {
      process.stdout.write(`${ENGINE_VERSION}\n`);
      return 0;
    }
    if (!command || globals.help || command === 'help') {
      process.stdout.write(rest[0] === 'build' ? BUILD_USAGE : MAIN_USAGE);
      return 0;
    }

    const log = cliLogger({
      debug,
      quiet: globals.quiet ?? false,
      logFile: globals['log-file'],
      timestamps: globals['log-timestamp'] ?? false,
    });
    log.debug(`version: ${ENGINE_VERSION}`);
    return await dispatch({ command, rest, globals, log, debug, signal: controller.signal });
  } catch (err) {
    return report(err, debug, controller.signal.aborted);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function dispatch(args: {
  command: string;
  rest: string[];
  globals: GlobalFlags;
  log: Logger;
  debug: boolean;
  signal: AbortSignal;
}): Promise<number> {
  const dirs = resolveDirs(args.globals, process.cwd());
  switch (args.command) {
    case 'build': {
      const flags = parse(args.rest, buildOptions, BUILD_USAGE) as unknown as BuildFlags & {
        help?: boolean;
      };
      if (flags.help) {
        process.stdout.write(BUILD_USAGE);
        return 0;
      }
      await buildCommand({ flags, dirs, log: args.log, debug: args.debug, signal: args.signal });
      return 0;
    }
    default:
      throw new UsageError(`No help topic for '${args.command}'`);
  }
}

/** parseArgs with stacker-like messages; positional arguments are refused. */
function parse(
  args: string[],
  options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>,
  usage: string,
): Record<string, unknown> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** Index of the command name: the first argument that is not a global flag or its value. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) return i;
    const name = arg.replace(/^--?/, '') as keyof typeof globalOptions;
    if (!arg.includes('=') && globalOptions[name]?.type === 'string') i++;
  }
  return -1;
}

/** Prints an error the way stacker does (`error: ...`); stack traces only with --debug. */
function report(err: unknown, debug: boolean, interrupted: boolean): number {
  if (interrupted) {
    process.stderr.write('error: interrupted; images tagged before the interruption are intact\n');
    return 130;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
  if (isStackerError(err)) {
    process.stderr.write(`error: ${err.format()}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  else
    process.stderr.write('(this looks like a bug in nx-stacker; run with --debug for details)\n');
  return 1;
}
