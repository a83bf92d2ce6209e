import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { StackerError } from '../errors';
import { loadExeca } from './execa';
import { RUNNER_LINE_PREFIX, RunnerStderrSplitter, runnerFailure } from './runner-messages';

/** Where the build put the runner; NX_STACKER_RUNNER overrides (see packages/runner). */
const { runnerPath } = require('@nx-stacker/runner') as { runnerPath: string };

/** The path of the native runner executable; fails with a hint when it was not built. */
export function runnerExecutable(): string {
  try {
    accessSync(runnerPath, constants.X_OK);
  } catch (err) {
    throw new StackerError(
      `the native runner ${runnerPath} is missing or not executable`,
      {},
      'run "npm run build" (make -C packages/runner)',
      { cause: err },
    );
  }
  return runnerPath;
}

/** One line of a user namespace's uid_map or gid_map: ns ids nsid.. are host ids hostid... */
export interface IdMapping {
  nsid: number;
  hostid: number;
  count: number;
}

/** The uid and gid maps of a user namespace (see rootless/ for how they are chosen). */
export interface UserNamespaceMap {
  uid: IdMapping[];
  gid: IdMapping[];
}

/** `userns u ... g ... --`: the runner arguments that run what follows inside `map`. */
export function usernsArguments(map: UserNamespaceMap): string[] {
  const triples = (kind: string, list: IdMapping[]) =>
    list.flatMap((m) => [kind, `${m.nsid}`, `${m.hostid}`, `${m.count}`]);
  return ['userns', ...triples('u', map.uid), ...triples('g', map.gid), '--'];
}

/**
 * The executable and arguments that run the runner with `args`: directly, or, with
 * `userns`, as root of a new user namespace with that map (the runner's userns mode execs
 * the runner again inside it).
 */
export function runnerCommand(
  args: string[],
  userns?: UserNamespaceMap,
): { file: string; args: string[] } {
  if (!userns) return { file: runnerExecutable(), args };
  return usernsCommand([runnerExecutable(), ...args], userns);
}

/** The runner command that runs `command` (executable and arguments) as root of `map`. */
export function usernsCommand(
  command: string[],
  map: UserNamespaceMap,
): { file: string; args: string[] } {
  return { file: runnerExecutable(), args: [...usernsArguments(map), ...command] };
}

/** One container run: the overlay stack, the LXC config and the command. */
export interface RunContainerOptions {
  /** LXC container name; must be unique among running containers of `lxcpath`. */
  name: string;
  lxcpath: string;
  /** LXC config with every lxc.* item except rootfs and log (see lxc-config.ts). */
  configFile: string;
  /** Directory the overlay is mounted on, inside the runner's private mount namespace. */
  rootfs: string;
  upper: string;
  work: string;
  /** Lower dirs, top-first; may be empty (then an empty `<work>/../workaround` is used). */
  lowers: string[];
  command: string[];
  logFile?: string;
  /** LXC log level: TRACE, DEBUG, INFO, NOTICE, WARN, ERROR, ... */
  logLevel?: string;
  /** The runner prints its overlay options and config items (see onDebug). */
  debug?: boolean;
  /** Passes this process's stdin, stdout and stderr (a terminal) through to the command. */
  interactive?: boolean;
  /** Output of the command (stdout and stderr) as it arrives; not called when interactive. */
  onOutput?: (chunk: Buffer) => void;
  /** The runner's own --debug lines; without it they go to onOutput. */
  onDebug?: (line: string) => void;
  /** Aborting kills the runner, and with it the container and its mounts. */
  signal?: AbortSignal;
  /**
   * Run in a new user namespace with this map first (a non-root `check`). Builds do not
   * need it: a rootless build runs wholly inside one already (see rootless/).
   */
  userns?: UserNamespaceMap;
}

/** How the command ended. */
export interface RunContainerResult {
  /** The command's exit code; 128+N when it (or the runner) was killed by signal N. */
  exitCode: number;
  /** Set when the runner itself was killed by a signal, e.g. 'SIGKILL'. */
  signal?: string;
}

/** Command-line arguments of `nx-stacker-runner run` for `opts`. */
export function runArguments(opts: RunContainerOptions): string[] {
  const args = ['run', '--name', opts.name, '--lxcpath', opts.lxcpath, '--config', opts.configFile];
  args.push('--rootfs', opts.rootfs, '--upper', opts.upper, '--work', opts.work);
  for (const lower of opts.lowers) args.push('--lower', lower);
  if (opts.logFile) args.push('--log', opts.logFile);
  if (opts.logLevel) args.push('--log-level', opts.logLevel);
  if (opts.debug) args.push('--debug');
  if (opts.interactive) args.push('--interactive');
  return [...args, '--', ...opts.command];
}

/**
 * Runs `command` in an LXC container on the overlay stack and resolves with its exit status;
 * a non-zero status is not an error here. Rejects with a StackerError (step 'run') when the
 * runner itself fails (overlay mount, LXC config or start) or when `signal` is aborted.
 * Whatever happens, nothing stays mounted on the host once the promise settles.
 */
export async function runContainer(opts: RunContainerOptions): Promise<RunContainerResult> {
  const messages: string[] = [];
  const interactive = opts.interactive === true;
  const { execa } = await loadExeca();
  const command = runnerCommand(runArguments(opts), opts.userns);
  const subprocess = execa(command.file, command.args, {
    stdin: interactive ? 'inherit' : 'ignore',
    stdout: interactive ? 'inherit' : 'pipe',
    stderr: interactive ? 'inherit' : 'pipe',
    buffer: false,
    reject: false,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 5000,
  });

  // Stream the command's output; keep the runner's own lines apart.
  const output = opts.onOutput ?? (() => {});
  const splitter = new RunnerStderrSplitter({
    output,
    message: (line) => {
      messages.push(line);
      if (!line.startsWith(`${RUNNER_LINE_PREFIX}error: `)) {
        if (opts.onDebug) opts.onDebug(line);
        else output(Buffer.from(`${line}\n`));
      }
    },
  });
  subprocess.stdout?.on('data', (chunk: Buffer) => output(chunk));
  subprocess.stderr?.on('data', (chunk: Buffer) => splitter.push(chunk));
  const result = await subprocess;
  splitter.end();

  return runResult({ opts, result, messages });
}

/** Turns the finished runner process into the result or the error runContainer promises. */
function runResult(input: {
  opts: RunContainerOptions;
  result: { exitCode?: number; signal?: string; isCanceled: boolean; failed: boolean };
  messages: string[];
}): RunContainerResult {
  const { opts, result } = input;
  if (result.isCanceled || opts.signal?.aborted) {
    throw new StackerError(`the container run of '${opts.command.join(' ')}' was cancelled`, {
      step: 'run',
    });
  }

  const hint = opts.logFile ? `the LXC log ${opts.logFile} has the details` : undefined;
  const failure = runnerFailure({
    exitCode: result.exitCode,
    stderrLines: input.messages,
    step: 'run',
    hint: opts.interactive ? undefined : hint,
  });
  if (failure) throw failure;

  if (result.signal) {
    const number = osConstants.signals[result.signal as keyof typeof osConstants.signals] ?? 0;
    return { exitCode: 128 + number, signal: result.signal };
  }
  if (result.exitCode === undefined) {
    throw new StackerError('the native runner could not be started', { step: 'run' });
  }
  return { exitCode: result.exitCode };
}
