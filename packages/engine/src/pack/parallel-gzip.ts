import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { BLOCK_SIZE, takeBlock } from './blocks';
import { crc32Combine } from './crc32-combine';
import { type DeflatedBlock, deflateOnWorker } from './deflate-pool';

/** Uncompressed bytes per independently compressed block. */
export const GZIP_BLOCK_SIZE = BLOCK_SIZE;
/** deflate's window: each block is primed with this much of the input before it. */
const DICTIONARY_SIZE = 32 << 10;
/** A fixed gzip header: deflate, no name, mtime 0, Unix; byte 8 (XFL) is set per level. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
/** An empty final deflate block (fixed Huffman, end-of-block only): ends the stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

export interface ParallelGzipOptions {
  /** 0-9, as zlib. */
  level: number;
  /**
   * How many blocks are compressed at once, on as many worker threads; the output does not
   * depend on it. Default: one more than the machine's available parallelism, because the
   * thread producing the input spends part of its time waiting on the disk (measured on 2
   * cores: about 5% faster than one per core, at gzip 1 and 6 alike).
   */
  threads?: number;
}

/** The default for `threads` (see ParallelGzipOptions). */
export function defaultGzipThreads(): number {
  return availableParallelism() + 1;
}

/**
 * A gzip compressor that uses several threads and whose output depends only on the input
 * and the level, never on the thread count or on how the input was chunked, as pigz does:
 * the input is cut into fixed 1 MiB blocks; each block is deflated on its own, primed with
 * the 32 KiB of input before it (so the ratio stays close to a single stream's) and ended
 * with a sync flush so the pieces join into one deflate stream; an empty final block and
 * the CRC-32 and size trailer close it. Any gzip reader reads the result as one member.
 *
 * Blocks are compressed, and checksummed, on worker threads (see deflate-pool.ts); this
 * thread only cuts and reorders. A written chunk of exactly one block that owns its memory
 * (as tarArchive writes them) goes to a worker without a copy and is detached: like any
 * chunk written to a stream, it must not be used by the writer afterwards.
 *
 * Up to four times `threads` blocks wait, done or not, to be written in order: blocks take
 * very different times (text vs. compressed data), and a slow one must not leave the other
 * threads idle.
 *
 * The bytes differ from a single zlib stream's (and from pigz's), so switching to this
 * compressor changes layer digests; a given zlib, level and input always give the same bytes.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly threads: number;
  /** Blocks handed to the workers, in input order. */
  private readonly queue: { block: Promise<DeflatedBlock>; done: boolean }[] = [];
  /** The block being filled by copying, made on first use; `filled` bytes of it are set. */
  private block: Buffer<ArrayBuffer> | undefined;
  private filled = 0;
  /** A copy of the last DICTIONARY_SIZE bytes of the previous block. */
  private dictionary: Buffer | undefined;
  private crc = 0;
  private size = 0;
  private headerSent = false;

  constructor(opts: ParallelGzipOptions) {
    super({ highWaterMark: GZIP_BLOCK_SIZE });
    this.level = opts.level;
    this.threads = Math.max(1, opts.threads ?? defaultGzipThreads());
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.consume(chunk).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.finish().then(() => done(), done);
  }

  private async consume(chunk: Buffer): Promise<void> {
    // A whole block that owns its memory goes to a worker as it is (and is detached here).
    if (this.filled === 0 && ownsWholeBlock(chunk)) return this.dispatch(chunk);

    for (let at = 0; at < chunk.length; ) {
      this.block ??= takeBlock();
      const n = Math.min(chunk.length - at, GZIP_BLOCK_SIZE - this.filled);
      chunk.copy(this.block, this.filled, at, at + n);
      this.filled += n;
      at += n;
      if (this.filled === GZIP_BLOCK_SIZE) await this.dispatch(this.takeFilled());
    }
  }

  /** The filled part of the current block; the next bytes go to a new one. */
  private takeFilled(): Buffer<ArrayBuffer> {
    const input = this.block!.subarray(0, this.filled);
    this.block = undefined;
    this.filled = 0;
    return input;
  }

  /** Hands a block to a worker; emits finished blocks, waits while too many wait. */
  private async dispatch(input: Buffer<ArrayBuffer>): Promise<void> {
    this.submit(input);
    while (this.queue[0]?.done) await this.emitOldest();
    while (this.queue.length >= this.threads * 4) await this.emitOldest();
  }

  /** Queues `input` for compression; from here on it belongs to the worker. */
  private submit(input: Buffer<ArrayBuffer>): void {
    const dictionary = this.dictionary;
    this.dictionary = Buffer.from(input.subarray(Math.max(0, input.length - DICTIONARY_SIZE)));
    const entry = {
      block: deflateOnWorker({ input, dictionary, level: this.level }, this.threads),
      done: false,
    };
    entry.block.then(
      () => {
        entry.done = true;
      },
      () => {}, // seen by whoever awaits the block; never left unhandled if nobody does
    );
    this.queue.push(entry);
  }

  private async emitOldest(): Promise<void> {
    const { output, crc, length } = await this.queue.shift()!.block;
    if (!this.headerSent) {
      this.push(gzipHeader(this.level));
      this.headerSent = true;
    }
    this.crc = crc32Combine(this.crc, crc, length);
    this.size += length;
    this.push(output);
  }

  private async finish(): Promise<void> {
    if (this.filled > 0) this.submit(this.takeFilled());
    while (this.queue.length > 0) await this.emitOldest();
    if (!this.headerSent) this.push(gzipHeader(this.level));
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    this.push(Buffer.concat([FINAL_BLOCK, trailer]));
  }
}

/** A chunk of exactly one block that is alone in its memory (see tarArchive). */
function ownsWholeBlock(chunk: Buffer): chunk is Buffer<ArrayBuffer> {
  return (
    chunk.length === GZIP_BLOCK_SIZE &&
    chunk.byteOffset === 0 &&
    chunk.buffer.byteLength === GZIP_BLOCK_SIZE &&
    !(chunk.buffer instanceof SharedArrayBuffer)
  );
}

/** The fixed header with zlib's XFL byte: 2 for the slowest level, 4 for the fastest. */
function gzipHeader(level: number): Buffer {
  const header = Buffer.from(HEADER);
  header[8] = level === 9 ? 2 : level < 2 ? 4 : 0;
  return header;
}
