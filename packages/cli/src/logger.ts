import { appendFileSync, writeFileSync } from 'node:fs';
import type { Logger } from '@nx-stacker/engine';
import chalk from 'chalk';

export interface LoggerOptions {
  debug: boolean;
  quiet: boolean;
  /** `--log-file`: messages go there instead of stderr (created or truncated). */
  logFile?: string;
  /** `--log-timestamp`: prefix each message with an RFC 3339 time. */
  timestamps: boolean;
}

/**
 * The CLI's logger: messages on stderr (as stacker writes them), the output of `run` steps on
 * stdout. Colour only when stderr is a terminal.
 */
export function cliLogger(opts: LoggerOptions): Logger {
  const color = opts.logFile === undefined && process.stderr.isTTY;
  if (opts.logFile) writeFileSync(opts.logFile, '');
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
      if (!opts.quiet) process.stdout.write(chunk);
    },
  };
}
