import { parseArgs } from 'node:util';
import {
  checkStorageDirs,
  checkStorageOwner,
  ENGINE_VERSION,
  isStackerError,
  type Logger,
  lxcVersion,
  needsUserNamespace,
  runInUserNamespace,
  StackerError,
  setRunnerWarningHandler,
} from '@nx-stacker/engine';
import type { CommandContext } from './commands/args';
import { type BuildFlags, buildCommand, buildOptions } from './commands/build';
import { checkCommand } from './commands/check';
import { chrootCommand } from './commands/chroot';
import { cleanCommand } from './commands/clean';
import { convertCommand } from './commands/convert';
import { gcCommand } from './commands/gc';
import { grabCommand } from './commands/grab';
import { inspectCommand } from './commands/inspect';
import { publishCommand } from './commands/publish';
import { recursiveBuildCommand } from './commands/recursive-build';
import { unprivSetupCommand } from './commands/unpriv-setup';
import { type GlobalFlags, globalOptions, resolveDirs } from './globals';
import { cliLogger } from './logger';
import { BUILD_USAGE, COMMAND_USAGE, MAIN_USAGE } from './usage';

/** Exit statuses: 0 success, 1 failure, 2 bad usage, 130 interrupted; chroot: its command's. */
class UsageError extends Error {}

/** Runs the CLI on `argv` (without node and script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  // `on`, not `once`: execa's exit hook re-raises a signal when no other listener is left,
  // which would kill us before containers and temporary snapshots are cleaned up.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
      // As stacker's: `<name> <version> liblxc <version>`.
      const lxc = await lxcVersion();
      process.stdout.write(`${ENGINE_VERSION}${lxc ? ` liblxc ${lxc}` : ''}\n`);
      return 0;
    }
    if (!command || globals.help || command === 'help') {
      process.stdout.write(COMMAND_USAGE[rest[0] ?? ''] ?? MAIN_USAGE);
      return 0;
    }

    const log = cliLogger({
      debug,
      quiet: globals.quiet ?? false,
      logFile: globals['log-file'],
      timestamps: globals['log-timestamp'] ?? false,
      progress: globals['no-progress'] ? false : undefined,
    });
    log.debug(`version: ${ENGINE_VERSION}`);
    setRunnerWarningHandler((message) => log.warn(message));
    const args = { command, rest, globals, log, debug, signal: controller.signal };
    const namespaced = await inUserNamespace({ ...args, argv });
    if (namespaced !== undefined) return namespaced;
    return await dispatch(args);
  } catch (err) {
    return report(err, debug, controller.signal.aborted);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Commands that extract layers or start containers: they need root, real or namespaced. */
const PRIVILEGED_COMMANDS = new Set([
  'build',
  'recursive-build',
  'chroot',
  'exec',
  'grab',
  'clean',
  'gc',
  'publish',
]);

/** Of those, the ones that write into the storage dirs (see checkStorageOwner). */
const WRITING_COMMANDS = new Set(['build', 'recursive-build', 'chroot', 'exec', 'grab']);

/**
 * Rootless builds: a user other than root runs the privileged commands as a copy of this
 * CLI, started as root of a user namespace (`--internal-userns` marks that copy), and gets
 * its exit status; undefined means "go on here". Before that, storage written by another
 * uid is refused (root and rootless builds cannot share it). `--help` needs no namespace.
 */
async function inUserNamespace(args: {
  argv: string[];
  command: string;
  rest: string[];
  globals: GlobalFlags;
  signal: AbortSignal;
}): Promise<number | undefined> {
  if (!PRIVILEGED_COMMANDS.has(args.command) || asksForHelp(args.rest)) return undefined;
  if (args.globals['internal-userns']) {
    if (!needsUserNamespace()) return undefined;
    throw new StackerError('--internal-userns is for nx-stacker itself: it did not map us to root');
  }

  const dirs = resolveDirs(args.globals, process.cwd());
  checkStorageDirs(dirs);
  if (WRITING_COMMANDS.has(args.command)) checkStorageOwner([dirs.stackerDir, dirs.rootsDir]);
  if (!needsUserNamespace()) return undefined;
  const self = [process.execPath, ...process.execArgv, process.argv[1] as string];
  return runInUserNamespace({
    command: [...self, '--internal-userns', ...args.argv],
    signal: args.signal,
  });
}

/** Whether a command's flags (before its first other argument) include --help or -h. */
function asksForHelp(rest: string[]): boolean {
  for (const arg of rest) {
    if (arg === '--help' || arg === '-h') return true;
    if (!arg.startsWith('-') || arg === '--') return false;
  }
  return false;
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
    case 'recursive-build':
      return recursiveBuildCommand(commandContext(args, dirs));
    case 'chroot':
    case 'exec':
      return chrootCommand(commandContext(args, dirs));
    case 'grab':
      return grabCommand(commandContext(args, dirs));
    case 'inspect':
      return inspectCommand(commandContext(args, dirs));
    case 'clean':
      return cleanCommand(commandContext(args, dirs));
    case 'gc':
      return gcCommand(commandContext(args, dirs));
    case 'check':
      return checkCommand(commandContext(args, dirs));
    case 'convert':
      return convertCommand(commandContext(args, dirs));
    case 'publish':
      return publishCommand(commandContext(args, dirs));
    case 'unpriv-setup':
      return unprivSetupCommand(commandContext(args, dirs));
    default:
      throw new UsageError(`No help topic for '${args.command}'\n\n${MAIN_USAGE}`);
  }
}

/** What the commands other than build get: their arguments and the global state. */
function commandContext(
  args: { rest: string[]; log: Logger; debug: boolean; signal: AbortSignal },
  dirs: ReturnType<typeof resolveDirs>,
): CommandContext {
  return { argv: args.rest, dirs, log: args.log, debug: args.debug, signal: args.signal };
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
