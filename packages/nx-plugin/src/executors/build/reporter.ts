/**
 * What the executor prints: the engine's per-layer steps as they happen, a line per layer
 * saying what became of it (built, reused or restored, why, how big, how long), and errors
 * with their location. Nx stores this output with the task and replays it on a cache hit.
 */

import chalk from 'chalk';
import { isStackerError, type LayerOutcome, type Logger } from '../../engine';

export interface Reporter {
  /** The logger handed to the engine. */
  log: Logger;
  /**
   * One line for a layer's outcome; `exported` marks the layer this task exports. Other layers
   * get a line only when this task built them, or with `verbose`.
   */
  outcome(outcome: LayerOutcome, exported: boolean): void;
  /** A line of the executor's own (assembly, hints). */
  info(message: string): void;
  /** Prints an error: a StackerError's location, message and hint, anything else's stack. */
  failure(err: unknown): void;
}

/** Where a reporter's text goes: by default stdout and stderr. */
export interface Sink {
  out(text: string | Buffer): void;
  err(text: string): void;
}

const STDIO: Sink = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * A reporter writing to `sink`. Absolute paths under `workspaceRoot` are shown relative to
 * it; engine debug lines only when `verbose`.
 */
export function createReporter(args: {
  workspaceRoot: string;
  verbose: boolean;
  sink?: Sink;
}): Reporter {
  const sink = args.sink ?? STDIO;
  const shorten = (text: string) => text.split(`${args.workspaceRoot}/`).join('');
  const out = (line: string) => sink.out(`${line}\n`);

  const log: Logger = {
    info: (m) => out(paintStep(shorten(m))),
    warn: (m) => out(chalk.yellow(`warning: ${shorten(m)}`)),
    debug: (m) => {
      if (args.verbose) out(chalk.dim(shorten(m)));
    },
    output: (chunk) => sink.out(chunk),
  };

  return {
    log,
    outcome: (o, exported) => {
      // Layers this task only stood on (reused or restored) are their own tasks' news.
      if (exported || o.status === 'built' || args.verbose)
        out(formatOutcome(o, exported, shorten));
    },
    info: (m) => out(shorten(m)),
    failure: (err) => {
      const text = isStackerError(err)
        ? err.format()
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
      sink.err(`${chalk.red(`error: ${shorten(text)}`)}\n`);
    },
  };
}

/** `layer: rest` with the layer name in bold, as the engine writes its step lines. */
function paintStep(message: string): string {
  const colon = message.indexOf(': ');
  if (colon <= 0 || message.slice(0, colon).includes(' ')) return message;
  return `${chalk.bold(message.slice(0, colon))}${message.slice(colon)}`;
}

const STATUS_COLOR = { built: chalk.green, reused: chalk.cyan, restored: chalk.blue } as const;

/** `✔ hello  built  1.2 KiB in 3.4s  (import hello.sh changed)`. */
export function formatOutcome(
  o: LayerOutcome,
  exported: boolean,
  shorten: (text: string) => string = (t) => t,
): string {
  const color = STATUS_COLOR[o.status];
  const size = o.status === 'built' ? `${formatBytes(o.bytes)} in ${o.seconds.toFixed(1)}s` : '';
  const why = o.reason ? `(${shorten(o.reason)})` : '';
  const marks = [o.buildOnly ? 'build_only' : '', exported ? 'exported' : ''].filter(Boolean);
  return [
    color('✔'),
    chalk.bold(o.name),
    color(o.status),
    size,
    chalk.dim(why),
    marks.length ? chalk.dim(`[${marks.join(', ')}]`) : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
