import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

/** Files up to this size are read in one call; larger ones are streamed in chunks. */
const WHOLE_READ_LIMIT = BigInt(4 << 20);
const CHUNK_SIZE = 1 << 20;

/**
 * Digests already computed in this process, by the file's identity and change time: a build
 * hashes each import for the layer's key and again when staging it. Any write or chmod moves
 * a file's ctime (which no one can set back), so an entry never outlives the content it
 * describes. As git does with "racily clean" files, a file changed in the last seconds is not
 * remembered: file times advance in clock ticks, and two writes within one tick would share
 * a ctime.
 */
const known = new Map<string, string>();
const KNOWN_LIMIT = 200_000;
const RACY_NS = 2_000_000_000n;

/**
 * The lower-case hex sha256 of a file's bytes; symlinks are followed. This is the value a
 * file import's `hash:` must hold. Synchronous on purpose: hashing is CPU bound, and one
 * read per small file beats a stream's bookkeeping.
 */
export function hashFileContent({ path }: { path: string }): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd, { bigint: true });
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const found = known.get(identity);
    if (found) return found;
    const digest = hashOpenFile(fd, st.size <= WHOLE_READ_LIMIT);
    if (BigInt(Date.now()) * 1_000_000n - st.ctimeNs < RACY_NS) return digest;
    if (known.size >= KNOWN_LIMIT) known.clear();
    known.set(identity, digest);
    return digest;
  } finally {
    closeSync(fd);
  }
}

function hashOpenFile(fd: number, whole: boolean): string {
  const hash = createHash('sha256');
  if (whole) return hash.update(readFileSync(fd)).digest('hex');
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  for (;;) {
    const n = readSync(fd, buffer, 0, CHUNK_SIZE, null);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest('hex');
}

/** The lower-case hex sha256 of a string (UTF-8). */
export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
