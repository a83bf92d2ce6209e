import { setTimeout as sleep } from 'node:timers/promises';
import { isCertificateError, TransportError } from './transport';

/** Pauses before the 2nd and 3rd attempt; a request is tried at most this many times + 1. */
const DELAYS_MS = [250, 1000];

/** HTTP statuses worth another try: throttling and gateway or server hiccups. */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** A response status that a retry may fix; thrown by callers of `withRetries`. */
export class TransientStatus extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'TransientStatus';
  }
}

/** Whether `status` may be fixed by trying again. */
export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status);
}

/**
 * Runs `attempt` until it succeeds, retrying (with short pauses) on transient failures:
 * network errors other than certificate problems, and TransientStatus. Anything else, and the
 * last failure, is thrown as it is; `attempts` says how many tries were made. Stops at once
 * when `signal` is aborted.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  opts: { signal?: AbortSignal; onRetry?: (err: Error, n: number) => void } = {},
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      opts.signal?.throwIfAborted();
      const delay = DELAYS_MS[n - 1];
      if (delay === undefined || !isTransient(err)) {
        if (err instanceof Error) Object.assign(err, { attempts: n });
        throw err;
      }
      opts.onRetry?.(err as Error, n);
      await sleep(delay, undefined, { signal: opts.signal });
    }
  }
}

function isTransient(err: unknown): boolean {
  if (err instanceof TransientStatus) return true;
  if (!(err instanceof TransportError)) return false;
  if (isCertificateError(err)) return false;
  return !['EPROTO', 'ETOOBIG', 'ABORT_ERR', 'ENOTFOUND', 'EPROXY'].includes(err.code ?? '');
}

/** How many tries `withRetries` made before giving up with `err` (1 when unknown). */
export function attemptsOf(err: unknown): number {
  return (err as { attempts?: number }).attempts ?? 1;
}
