/**
 * Where the runner's warning lines go when the code that ran it has no logger at hand: layer
 * extraction calls the runner's fsops deep inside storage, and a device node it had to
 * replace by an empty file (in a user namespace) must still reach the person building.
 *
 * One handler per process: a front end (the CLI) installs its logger's `warn` with
 * setRunnerWarningHandler. Until one is installed, warnings go to process.emitWarning, so
 * none is ever lost.
 */
export type RunnerWarningHandler = (message: string) => void;

const emit: RunnerWarningHandler = (message) => process.emitWarning(message, 'NxStackerWarning');
let handler: RunnerWarningHandler = emit;

/** Sends later runner warnings to `fn`; returns a function that restores the previous one. */
export function setRunnerWarningHandler(fn: RunnerWarningHandler): () => void {
  const previous = handler;
  handler = fn;
  return () => {
    handler = previous;
  };
}

/** Passes one warning (without the runner's line prefix) to the installed handler. */
export function runnerWarning(message: string): void {
  handler(message);
}
