import { StackerError } from '../errors';

/** Every line the runner writes itself starts with this; the command's output never should. */
export const RUNNER_LINE_PREFIX = 'nx-stacker-runner: ';

/** The line a runner failure prints, before `<what failed>: <detail>`. */
export const RUNNER_ERROR_PREFIX = `${RUNNER_LINE_PREFIX}error: `;

/** Exit status of the runner when it failed itself (not the command it ran). */
export const RUNNER_FAILURE_EXIT = 125;

const NEWLINE = 0x0a;
const PREFIX_BYTES = Buffer.from(RUNNER_LINE_PREFIX);

/**
 * Splits the runner's stderr into the command's output and the runner's own lines, keeping
 * the output streaming: bytes are passed on as they arrive, except a line start that may
 * still turn out to be a runner line, which waits for its newline. Contract: `output` gets
 * every byte that is not part of a runner line, in order; `message` gets each runner line
 * without its newline. A command that prints a line starting with the runner's prefix has
 * that line treated as a runner line (a known and accepted ambiguity).
 */
export class RunnerStderrSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private atLineStart = true;

  constructor(
    private readonly sinks: { output: (chunk: Buffer) => void; message: (line: string) => void },
  ) {}

  /** Feeds the next chunk of stderr. */
  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let passOn: Buffer[] = [];

    while (data.length > 0) {
      const newline = data.indexOf(NEWLINE);
      const line = newline < 0 ? data : data.subarray(0, newline + 1);

      if (!this.atLineStart || !couldBeRunnerLine(line)) {
        passOn.push(line);
      } else if (newline < 0) {
        this.pending = Buffer.from(line);
        break;
      } else if (line.subarray(0, PREFIX_BYTES.length).equals(PREFIX_BYTES)) {
        this.flush(passOn);
        passOn = [];
        this.sinks.message(line.subarray(0, newline).toString('utf8'));
      } else {
        passOn.push(line);
      }
      this.atLineStart = newline >= 0;
      data = newline < 0 ? Buffer.alloc(0) : data.subarray(newline + 1);
    }
    this.flush(passOn);
  }

  /** Passes on what is still held back; call when stderr has ended. */
  end(): void {
    if (this.pending.length === 0) return;
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    if (rest.subarray(0, PREFIX_BYTES.length).equals(PREFIX_BYTES)) {
      this.sinks.message(rest.toString('utf8'));
    } else {
      this.sinks.output(rest);
    }
  }

  private flush(parts: Buffer[]): void {
    if (parts.length === 1) this.sinks.output(parts[0]!);
    else if (parts.length > 1) this.sinks.output(Buffer.concat(parts));
  }
}

/** True when `start` (the beginning of a line) is or may grow into a runner line. */
function couldBeRunnerLine(start: Buffer): boolean {
  const n = Math.min(start.length, PREFIX_BYTES.length);
  return start.subarray(0, n).equals(PREFIX_BYTES.subarray(0, n));
}

/** The failure a runner reported, from its error line, or undefined when it printed none. */
export function runnerFailureMessage(lines: readonly string[]): string | undefined {
  const line = lines.findLast((l) => l.startsWith(RUNNER_ERROR_PREFIX));
  return line?.slice(RUNNER_ERROR_PREFIX.length);
}

/**
 * The StackerError for a runner that exited with status 125, or undefined when that exit
 * came without an error line (then it is the command's own status). `hint` says what to do.
 */
export function runnerFailure(opts: {
  exitCode: number | undefined;
  stderrLines: readonly string[];
  step?: string;
  hint?: string;
}): StackerError | undefined {
  if (opts.exitCode !== RUNNER_FAILURE_EXIT) return undefined;
  const message = runnerFailureMessage(opts.stderrLines);
  if (message === undefined) return undefined;
  return new StackerError(message, opts.step ? { step: opts.step } : {}, opts.hint);
}
