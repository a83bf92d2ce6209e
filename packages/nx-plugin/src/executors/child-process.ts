/**
 * Executor work in a process of its own: a compiled script of this package, started with
 * node directly or, for a user other than root, as root of a user namespace through the
 * engine's runner (as the CLI re-executes itself: extracting layers, mounting overlays and
 * starting containers need root, which the namespace gives; see docs/architecture.md,
 * "Rootless builds"). The build executor runs tasks this way (build/run-task.ts), and the
 * publish executor does for a user other than root (publish/executor.ts).
 */
import { spawn } from 'node:child_process';
import { commandInUserNamespace, StackerError } from '../engine';
import type { Reporter, Sink } from './build/reporter';

/** Exit status of the runner when it could not set up the user namespace. */
const RUNNER_FAILURE_EXIT = 125;

/**
 * Runs `script` with `payload` as JSON in its one argument, in `cwd`, and resolves to
 * whether it exited with status 0. With `rootless`, it runs as root of a user namespace
 * mapped from /etc/subuid and /etc/subgid; a user without ranges there gets the engine's
 * error saying how to add them, through `reporter`, and nothing runs. The script's output
 * goes to `sink` (decoded as UTF-8) when one is given, else straight to this process's
 * stdout and stderr. Aborting `signal` sends it SIGTERM; in a namespace the runner forwards
 * that, so the script still stops its container and cleans up. The payload is visible in
 * the process list: never put a secret in it (the environment is inherited).
 */
export async function runScript(args: {
  script: string;
  payload: unknown;
  cwd: string;
  rootless: boolean;
  sink?: Sink;
  reporter: Reporter;
  signal: AbortSignal;
}): Promise<boolean> {
  const { sink, reporter, signal } = args;
  const node = [process.execPath, args.script, JSON.stringify(args.payload)];
  let command = { file: node[0] as string, args: node.slice(1) };
  try {
    if (args.rootless) command = commandInUserNamespace(node);
  } catch (err) {
    reporter.failure(err);
    return false;
  }

  const child = spawn(command.file, command.args, {
    cwd: args.cwd,
    stdio: ['ignore', sink ? 'pipe' : 'inherit', sink ? 'pipe' : 'inherit'],
  });
  if (sink) {
    child.stdout?.setEncoding('utf8').on('data', (text: string) => sink.out(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => sink.err(text));
  }
  const stop = () => child.kill('SIGTERM');
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });

  return new Promise((resolve) => {
    child.on('error', (err) => {
      reporter.failure(
        new StackerError(`couldn't start a process for the task: ${err.message}`, {
          step: 'setup',
        }),
      );
    });
    child.on('close', (code, killedBy) => {
      signal.removeEventListener('abort', stop);
      if (args.rootless && code === RUNNER_FAILURE_EXIT) reporter.failure(namespaceFailure());
      else if (killedBy && !signal.aborted) {
        reporter.failure(new StackerError(`the task's process was killed by ${killedBy}`));
      }
      resolve(code === 0);
    });
  });
}

/** What follows the runner's own error line when it could not set up the user namespace. */
function namespaceFailure(): StackerError {
  return new StackerError(
    "couldn't start the task in a user namespace (the runner's message above says why)",
    { step: 'setup' },
    'run "npx nx-stacker check" as this user: it lists what builds without root need, and ' +
      'the fix',
  );
}

/**
 * The child's side: runs the `main` of a script started as above (build/child.ts,
 * publish/child.ts) and exits with its status once the output is flushed, as Nx does after
 * an executor: the engine may keep idle handles (worker threads) that would otherwise hold
 * the process open. An error that escapes `main` is printed with its stack, since the
 * engine's own errors never get here.
 */
export function runChildMain(main: () => Promise<number>): void {
  const exit = (code: number) => process.stdout.write('', () => process.exit(code));
  main().then(exit, (err: unknown) => {
    process.stderr.write(
      `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    exit(1);
  });
}
