/**
 * Errors a generator user can act on. Nx prints only an error's message, so the message itself
 * carries the place (`file:line:col`) and the hint, in the same shape as the engine's errors.
 */

/** Where in a workspace file a problem is; line and column are 1-based. */
export interface FilePlace {
  file: string;
  line?: number;
  column?: number;
}

/** An Error whose message reads `file:line:col: message` and then `  hint: ...`. */
export function generatorError(message: string, where?: FilePlace, hint?: string): Error {
  let place = '';
  if (where) {
    place = where.file;
    if (where.line !== undefined) place += `:${where.line}`;
    if (where.line !== undefined && where.column !== undefined) place += `:${where.column}`;
    place += ': ';
  }
  const lines = [`${place}${message}`];
  if (hint) lines.push(`  hint: ${hint}`);
  return new Error(lines.join('\n'));
}
