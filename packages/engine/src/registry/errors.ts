import { StackerError } from '../errors';
import type { HttpResponse } from './transport';

/** The registry answered with a status the operation cannot go on with. */
export class RegistryHttpError extends StackerError {
  constructor(
    message: string,
    readonly status: number,
    hint?: string,
  ) {
    super(message, {}, hint);
    this.name = 'RegistryHttpError';
  }
}

/** The registry could not be reached at all; `tried` lists each url and what happened. */
export class RegistryUnreachableError extends StackerError {
  constructor(
    message: string,
    readonly tried: string[],
    hint?: string,
  ) {
    super(message, {}, hint);
    this.name = 'RegistryUnreachableError';
  }
}

/** Credentials are missing or were refused. */
export class RegistryAuthError extends StackerError {
  constructor(message: string, hint: string) {
    super(message, {}, hint);
    this.name = 'RegistryAuthError';
  }
}

/**
 * The registry's own explanation of an error response: the `message`s of a distribution-spec
 * error body (`{"errors": [{"code", "message"}]}`), else the start of the body. The caller
 * scrubs it before showing it.
 */
export async function errorDetail(res: HttpResponse): Promise<string> {
  let body: Buffer;
  try {
    body = await res.read(64 * 1024);
  } catch {
    return '';
  }
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const messages = (parsed.errors ?? []).map((e) => e.message ?? e.code).filter(Boolean);
    if (messages.length) return messages.join('; ');
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.slice(0, 200);
}
