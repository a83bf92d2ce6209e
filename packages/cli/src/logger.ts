import { appendFileSync, writeFileSync } from 'node:fs';
import { type Logger, StackerError } from '@nx-stacker/engine';
import chalk from 'chalk';

export interface LoggerOptions {
  debug: boolean;
  quiet: boolean;
  /** `--log-file`: messages go there instead of stderr (created or truncated). */
  logFile?: string;
  /** `--log-timestamp`: prefix each message with an RFC 3339 time. */
  timestamps: boolean;
  /** `--progress` / `--no-progress`: download progress lines; by default they are shown. */
  progress?: boolean;
}

/**
 * The CLI's logger: messages on stderr (as stacker writes them), the output of `run` steps on
 * stdout, even with `--quiet` (stacker copies a container's output whatever the log level, so
 * a failing step shows why). Colour only when stderr is a terminal.
 */
export function cliLogger(opts: LoggerOptions): Logger {
  const color = opts.logFile === undefined && process.stderr.isTTY;
  if (opts.logFile) createLogFile(opts.logFile);
  const write = (text: string) => {
    const line = `${opts.timestamps ? `${new Date().toISOString()} ` : ''}${text}\n`;
    if (opts.logFile) appendFileSync(opts.logFile, line);
    else process.stderr.write(line);
  };
  const paint = (fn: (s: string) => string, s: string) => (color ? fn(s) : s);

  return {
    info: (m) => {
      if (!opts.quiet) write(m);
    },
    warn: (m) => {
      if (!opts.quiet) write(paint(chalk.yellow, `warning: ${m}`));
    },
    debug: (m) => {
      if (opts.debug) write(paint(chalk.dim, m));
    },
    output: (chunk) => {
      process.stdout.write(chunk);
    },
    progress: (m) => {
      if (!opts.quiet && opts.progress !== false) write(m);
    },
  };
}

function createLogFile(path: string): void {
  try {
    writeFileSync(path, '');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such directory'
        : (err as Error).message;
    throw new StackerError(
      `couldn't create --log-file ${path}: ${reason}`,
      {},
      'give --log-file a path in a directory that exists and that you can write to',
    );
  }
}
