/**
 * The engine's only way to talk to the person waiting on a build. The CLI and the Nx executor
 * each provide one; the engine never writes to stdout or stderr itself.
 */
export interface Logger {
  /** One line per layer step: what happened, with sizes, durations and cache reasons. */
  info(message: string): void;
  /** Something the user should fix but that did not stop the build. */
  warn(message: string): void;
  /** Details for `--debug`: commands, overlay arguments, container config. */
  debug(message: string): void;
  /** Output of a `run:` step, passed through as it arrives. */
  output(chunk: Buffer): void;
  /** A progress line of a long download; `info` takes them when this is missing. */
  progress?(message: string): void;
}

/** A logger that drops everything; for tests and callers that do not care. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  debug() {},
  output() {},
};

/** Collects every message; for tests that assert on what a build said. */
export function memoryLogger(): Logger & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
    output: (c) => lines.push(c.toString()),
    text: () => lines.join('\n'),
  };
}
