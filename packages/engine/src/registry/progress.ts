import type { Logger } from '../log';

/** At most one progress line this often. */
const INTERVAL_MS = 2000;

/** Counts bytes of parallel downloads and logs one progress line now and then. */
export interface Progress {
  /** Bytes received (negative: a failed try's bytes taken back before a retry). */
  add(bytes: number): void;
  blobDone(): void;
  /** The closing line, with the total and the time taken. */
  finish(): void;
}

/**
 * A progress reporter for `blobs` downloads totalling `totalBytes`: a line such as
 * `pulling docker://…: 45% (12.3 MiB of 27.0 MiB, 2 of 5 blobs)` at most every two seconds,
 * then one final line. Lines rather than a redrawn bar, so logs and CI output stay readable.
 */
export function progressLine(args: {
  log: Logger;
  what: string;
  blobs: number;
  totalBytes: number;
}): Progress {
  const { log, what, blobs, totalBytes } = args;
  const started = Date.now();
  let bytes = 0;
  let done = 0;
  let lastLine = started;

  const line = () => {
    const pct = totalBytes > 0 ? Math.floor((bytes / totalBytes) * 100) : 100;
    return `${what}: ${pct}% (${mib(bytes)} of ${mib(totalBytes)}, ${done} of ${blobs} blobs)`;
  };
  return {
    add(n) {
      bytes += n;
      const now = Date.now();
      if (now - lastLine >= INTERVAL_MS) {
        lastLine = now;
        if (log.progress) log.progress(line());
        else log.info(line());
      }
    },
    blobDone() {
      done++;
    },
    finish() {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      log.info(`${what}: ${blobs} blobs, ${mib(totalBytes)} in ${seconds}s`);
    },
  };
}

function mib(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
