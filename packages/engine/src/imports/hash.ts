import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

/** Files up to this size are read in one call; larger ones are streamed in chunks. */
const WHOLE_READ_LIMIT = 4 << 20;
const CHUNK_SIZE = 1 << 20;

/**
 * The lower-case hex sha256 of a file's bytes; symlinks are followed. This is the value a
 * file import's `hash:` must hold. Synchronous on purpose: hashing is CPU bound, and one
 * read per small file beats a stream's bookkeeping.
 */
export function hashFileContent({ path }: { path: string }): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size <= WHOLE_READ_LIMIT) {
      hash.update(readFileSync(fd));
      return hash.digest('hex');
    }
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK_SIZE, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** The lower-case hex sha256 of a string (UTF-8). */
export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
