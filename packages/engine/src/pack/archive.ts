import { closeSync, constants, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { StackerError } from '../errors';
import { encodeHeader, endOfArchive, paddingFor } from '../oci/tar-codec';
import { type HeaderContext, headersFor, type TreeXattrs } from './headers';
import { type TreeEntry, walkTree } from './walk';

/** Files below this size are read in one synchronous call; larger ones are streamed. */
const SMALL_FILE = 1 << 20;
/** Output is handed on in pieces of about this size. */
const CHUNK = 1 << 20;
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
 * The uncompressed tar of `dir` as a stream of buffers (see `headersFor` for what each file
 * becomes). Small files are batched into ~1 MiB buffers to keep per-chunk overhead low;
 * big files are read in 1 MiB pieces, so memory stays bounded whatever the tree holds.
 * A file whose size changes while it is read is an error: the archive would be corrupt.
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
  let batch: Buffer[] = [];
  let batched = 0;
  const take = (): Buffer => {
    const out = Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    return out;
  };
  const add = (piece: Buffer) => {
    batch.push(piece);
    batched += piece.length;
  };

  for (const entry of walkTree(opts.dir)) {
    for (const header of headersFor(entry, ctx)) {
      if (!(entry.rel === '' && header.type === 'dir')) stats.entries++;
      add(encodeHeader(header));
      if (header.type !== 'file' || header.size === 0) continue;
      if (header.size < SMALL_FILE) {
        add(readSmallFile(entry, header.size));
      } else {
        yield take();
        yield* readLargeFile(entry, header.size);
      }
      const padding = paddingFor(header.size);
      if (padding > 0) add(Buffer.alloc(padding));
    }
    if (batched >= CHUNK) yield take();
  }
  add(endOfArchive());
  yield take();
}

function readSmallFile(entry: TreeEntry, size: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  let fd: number | undefined;
  let got = 0;
  try {
    fd = openSync(entry.abs, OPEN_FLAGS);
    for (let n = -1; n !== 0 && got < size; got += n) n = readSync(fd, data, got, size - got, got);
    // One more byte would mean the file grew since lstat.
    if (got === size && readSync(fd, Buffer.alloc(1), 0, 1, size) !== 0) got = size + 1;
  } catch (err) {
    throw readError(entry, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (got !== size) throw changedError(entry);
  return data;
}

async function* readLargeFile(entry: TreeEntry, size: number): AsyncGenerator<Buffer> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(entry.abs, OPEN_FLAGS);
    let got = 0;
    while (got < size) {
      const want = Math.min(CHUNK, size - got);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, got);
      if (bytesRead === 0) throw changedError(entry);
      got += bytesRead;
      yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
    }
    const extra = await handle.read(Buffer.alloc(1), 0, 1, size);
    if (extra.bytesRead !== 0) throw changedError(entry);
  } catch (err) {
    throw err instanceof StackerError ? err : readError(entry, err);
  } finally {
    await handle?.close();
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
