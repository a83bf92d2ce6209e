/**
 * Where a problem is, as precisely as it is known. Every field is optional: an error found
 * while parsing knows the file and line, one found while packing knows the layer and step.
 */
export interface Location {
  /** Absolute path of the stacker file (or other input file). */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** 1-based column in `file`. */
  column?: number;
  /** Name of the layer being parsed or built. */
  layer?: string;
  /** The directive involved (`from`, `imports`, `run`, ...). */
  directive?: string;
  /** The import path involved. */
  import?: string;
  /** The build step that failed (`parse`, `plan`, `base`, `imports`, `run`, `pack`, `write`). */
  step?: string;
}

/**
 * An error a user can act on: a message, where it happened and, when we know it, what to do.
 * Anything else thrown inside the engine is a bug and is shown with its stack trace.
 */
export class StackerError extends Error {
  readonly where: Location;
  readonly hint: string | undefined;

  constructor(message: string, where: Location = {}, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackerError';
    this.where = where;
    this.hint = hint;
  }

  /** The same error with more context; fields already known are kept. */
  at(where: Location): StackerError {
    return new StackerError(this.message, { ...where, ...this.where }, this.hint, {
      cause: this.cause,
    });
  }

  /** One line saying where, one saying what, and the hint when there is one. */
  format(): string {
    const place = formatLocation(this.where);
    const lines = [place ? `${place}: ${this.message}` : this.message];
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    return lines.join('\n');
  }
}

/** `file:line:col: layer 'x': directive 'y'` with whatever parts are known. */
export function formatLocation(where: Location): string {
  const parts: string[] = [];
  if (where.file) {
    let file = where.file;
    if (where.line !== undefined) file += `:${where.line}`;
    if (where.line !== undefined && where.column !== undefined) file += `:${where.column}`;
    parts.push(file);
  }
  if (where.layer) parts.push(`layer '${where.layer}'`);
  if (where.directive) parts.push(`${where.directive}`);
  if (where.import) parts.push(`import '${where.import}'`);
  if (where.step) parts.push(`step ${where.step}`);
  return parts.join(': ');
}

/** Wraps any error with context: StackerErrors gain location, others become a cause. */
export function wrapError(
  err: unknown,
  message: string,
  where: Location,
  hint?: string,
): StackerError {
  if (err instanceof StackerError) return err.at(where);
  const detail = err instanceof Error ? err.message : String(err);
  return new StackerError(`${message}: ${detail}`, where, hint, { cause: err });
}

export function isStackerError(err: unknown): err is StackerError {
  return err instanceof StackerError;
}
