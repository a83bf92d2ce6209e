import { closeSync, constants, openSync, readSync } from 'node:fs';
import { StackerError } from '../errors';
import { encodeHeader, endOfArchive, paddingFor } from '../oci/tar-codec';
import { BLOCK_SIZE, takeBlock } from './blocks';
import { type HeaderContext, headersFor, type TreeXattrs } from './headers';
import { type TreeEntry, walkTree } from './walk';

/**
 * The archive is handed on in pieces of exactly this size (the last one excepted), which is
 * the compressor's block size: each piece can go to a compression thread as it is.
 */
export const ARCHIVE_CHUNK = BLOCK_SIZE;
/**
 * Never follow a symlink or block on a FIFO that replaced a regular file since lstat: the
 * size check below then reports the change instead of packing something else or hanging.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface ArchiveOptions {
  dir: string;
  xattrs: TreeXattrs;
  sourceDateEpoch?: number;
  onSkip?: (rel: string, why: string) => void;
}

/** Counters filled in while the archive is produced. */
export interface ArchiveStats {
  /** Tar entries other than the root directory's. */
  entries: number;
}

/**
 * The uncompressed tar of `dir` as a stream of ARCHIVE_CHUNK-sized buffers (see `headersFor`
 * for what each file becomes). Headers and file data are written straight into the chunks
 * (file data read from disk into them), so nothing is copied twice and memory stays bounded
 * whatever the tree holds. Each chunk is a new buffer owning its memory, never touched again
 * once yielded: a consumer may keep it or hand it to another thread. A file whose size
 * changes while it is read is an error: the archive would be corrupt.
 */
export async function* tarArchive(
  opts: ArchiveOptions,
  stats: ArchiveStats,
): AsyncGenerator<Buffer> {
  const ctx: HeaderContext = {
    xattrs: opts.xattrs,
    sourceDateEpoch: opts.sourceDateEpoch,
    inodes: new Map(),
    onSkip: opts.onSkip,
  };
  const out = new ChunkWriter();
  for (const entry of walkTree(opts.dir)) {
    for (const header of headersFor(entry, ctx)) {
      if (!(entry.rel === '' && header.type === 'dir')) stats.entries++;
      out.write(encodeHeader(header));
      if (header.type !== 'file' || header.size === 0) continue;
      yield* readFile(entry, header.size, out);
      out.zeros(paddingFor(header.size));
    }
    yield* out.takeFull();
  }
  out.write(endOfArchive());
  yield* out.takeFull();
  yield out.takeRest();
}

/** Fills ARCHIVE_CHUNK-sized buffers; full ones wait in `full` until taken. */
class ChunkWriter {
  chunk = takeBlock();
  used = 0;
  private readonly full: Buffer[] = [];

  write(data: Buffer): void {
    for (let at = 0; at < data.length; ) {
      const n = Math.min(data.length - at, this.room());
      data.copy(this.chunk, this.used, at, at + n);
      at += n;
      this.advance(n);
    }
  }

  zeros(count: number): void {
    for (let left = count; left > 0; ) {
      const n = Math.min(left, this.room());
      this.chunk.fill(0, this.used, this.used + n);
      left -= n;
      this.advance(n);
    }
  }

  /** Bytes left in the current chunk (never 0: a full chunk is replaced at once). */
  room(): number {
    return ARCHIVE_CHUNK - this.used;
  }

  /** Counts `n` bytes written at `used` into the current chunk. */
  advance(n: number): void {
    this.used += n;
    if (this.used === ARCHIVE_CHUNK) {
      this.full.push(this.chunk);
      this.chunk = takeBlock();
      this.used = 0;
    }
  }

  *takeFull(): Generator<Buffer> {
    while (this.full.length > 0) yield this.full.shift()!;
  }

  takeRest(): Buffer {
    return this.chunk.subarray(0, this.used);
  }
}

/**
 * Reads the `size` bytes of a file straight into the archive, yielding chunks as they fill
 * (a big file never sits in memory). One more byte than lstat said means it grew.
 */
function* readFile(entry: TreeEntry, size: number, out: ChunkWriter): Generator<Buffer> {
  let fd: number | undefined;
  try {
    fd = openSync(entry.abs, OPEN_FLAGS);
    for (let got = 0; got < size; ) {
      const n = readSync(fd, out.chunk, out.used, Math.min(size - got, out.room()), got);
      if (n === 0) throw changedError(entry);
      got += n;
      out.advance(n);
      yield* out.takeFull();
    }
    if (readSync(fd, Buffer.alloc(1), 0, 1, size) !== 0) throw changedError(entry);
  } catch (err) {
    throw err instanceof StackerError ? err : readError(entry, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readError(entry: TreeEntry, err: unknown): StackerError {
  return new StackerError(`couldn't read /${entry.rel}: ${(err as Error).message}`, {
    step: 'pack',
  });
}

function changedError(entry: TreeEntry): StackerError {
  return new StackerError(
    `/${entry.rel} changed size while it was being packed`,
    { step: 'pack' },
    'nothing may write to a layer while it is packed; is a container still running?',
  );
}
