import { Worker } from 'node:worker_threads';

/**
 * The worker's code, inline so that it runs the same from the sources and from dist. For
 * each job it reads a blob, hashes it (sha256 of the bytes as stored) and gunzips it when
 * asked, posting the output in chunks; it runs ahead of the consumer by at most `window`
 * chunks, waiting for `credit` messages beyond that. Errors are posted as messages.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createReadStream } = require('node:fs');
const { createHash } = require('node:crypto');
const { createGunzip } = require('node:zlib');

const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'start') run(m);
  const job = jobs.get(m.id);
  if (!job) return;
  if (m.type === 'credit') { job.credit += m.count; job.wake?.(); }
  if (m.type === 'cancel') { job.cancelled = true; job.wake?.(); }
});

async function run({ id, path, gzip, window }) {
  const job = { credit: window, cancelled: false, wake: undefined };
  jobs.set(id, job);
  const hash = createHash('sha256');
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  let output = source;
  if (gzip) {
    output = createGunzip({ chunkSize: 1 << 18 });
    source.on('data', (chunk) => hash.update(chunk));
    source.on('error', (err) => output.destroy(err));
    source.pipe(output);
  }
  try {
    for await (const chunk of output) {
      if (!gzip) hash.update(chunk);
      while (job.credit === 0 && !job.cancelled) await new Promise((r) => { job.wake = r; });
      if (job.cancelled) break;
      job.credit--;
      const own = Buffer.from(chunk);
      parentPort.postMessage({ id, type: 'chunk', chunk: own }, [own.buffer]);
    }
    if (job.cancelled) source.destroy();
    else parentPort.postMessage({ id, type: 'end', digest: 'sha256:' + hash.digest('hex') });
  } catch (err) {
    source.destroy();
    parentPort.postMessage({ id, type: 'error', message: String(err && err.message || err) });
  } finally {
    jobs.delete(id);
  }
}
`;

type Reply =
  | { id: number; type: 'chunk'; chunk: Uint8Array }
  | { id: number; type: 'end'; digest: string }
  | { id: number; type: 'error'; message: string };

/** Chunks the consumer may fall behind by: 32 x 256 KiB. */
const WINDOW = 32;

let worker: Worker | undefined;
let nextId = 0;
const listeners = new Map<number, (reply: Reply) => void>();

/**
 * One thread for reading layer blobs, created on first use and kept (unref'd while idle,
 * so it never keeps the process alive). A crash fails the reads in progress; the next read
 * starts a new thread.
 */
function readerThread(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  w.on('message', (reply: Reply) => listeners.get(reply.id)?.(reply));
  const fail = (err: Error) => {
    worker = undefined;
    for (const listener of listeners.values()) {
      listener({ id: -1, type: 'error', message: `blob reader thread failed: ${err.message}` });
    }
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`exited with ${code}`)));
  worker = w;
  return w;
}

/** What `readBlob` read: the sha256 digest of the blob as stored, once it is all read. */
export interface BlobRead {
  chunks: AsyncGenerator<Buffer>;
  /** Resolves after the last chunk: `sha256:<hex>` of the bytes on disk. */
  digest(): string;
}

/**
 * Reads the blob at `path` on another thread, gunzipped when `gzip` is set, and yields the
 * content in chunks of up to 256 KiB. Reading, hashing and decompressing all happen on that
 * thread, so they overlap completely with what the caller does with each chunk (writing a
 * layer's files), which they would not on this thread: Node's zlib needs this thread
 * between every two pieces of output. Stopping the iteration early cancels the read.
 * Errors (unreadable file, corrupt gzip) are thrown from the iteration with the message
 * the stream gave.
 */
export function readBlob(path: string, opts: { gzip: boolean }): BlobRead {
  const id = nextId++;
  let digest: string | undefined;

  async function* chunks(): AsyncGenerator<Buffer> {
    const thread = readerThread();
    const queue: Reply[] = [];
    let wake: (() => void) | undefined;
    listeners.set(id, (reply) => {
      queue.push(reply);
      wake?.();
    });
    thread.ref();
    thread.postMessage({ type: 'start', id, path, gzip: opts.gzip, window: WINDOW });
    let finished = false;
    try {
      for (let consumed = 0; ; ) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const reply = queue.shift()!;
        if (reply.type === 'error') throw new Error(reply.message);
        if (reply.type === 'end') {
          digest = reply.digest;
          finished = true;
          return;
        }
        yield Buffer.from(reply.chunk.buffer, reply.chunk.byteOffset, reply.chunk.byteLength);
        if (++consumed % 8 === 0) thread.postMessage({ type: 'credit', id, count: 8 });
      }
    } finally {
      listeners.delete(id);
      if (!finished) thread.postMessage({ type: 'cancel', id });
      if (listeners.size === 0) thread.unref();
    }
  }

  return {
    chunks: chunks(),
    digest: () => {
      if (digest === undefined) throw new Error('readBlob: digest asked before the end');
      return digest;
    },
  };
}
