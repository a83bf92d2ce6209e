import { Worker } from 'node:worker_threads';
import { releaseBlock } from './blocks';

/** One block to compress: raw deflate, primed with `dictionary`, ended by a sync flush. */
export interface DeflateJob {
  /** Handed over to the worker: detached (length 0) once submitted. */
  input: Buffer<ArrayBuffer>;
  dictionary?: Buffer;
  level: number;
}

/** A compressed block, with the CRC-32 and length of its input. */
export interface DeflatedBlock {
  output: Buffer;
  crc: number;
  length: number;
}

/**
 * The worker's code, inline so that it runs the same from the sources and from dist. It
 * compresses with deflateRawSync (the output ends with a sync flush: byte-aligned, not
 * final, so blocks concatenate into one stream) and computes the CRC-32 of the input, so
 * neither costs the main thread anything; the input's memory goes back for reuse.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { constants, crc32, deflateRawSync } = require('node:zlib');
parentPort.on('message', ({ id, input, dictionary, level }) => {
  try {
    const out = deflateRawSync(input, {
      level,
      dictionary,
      finishFlush: constants.Z_SYNC_FLUSH,
      chunkSize: Math.max(64 * 1024, input.length + (input.length >> 3) + 1024),
    });
    const alone = out.byteOffset === 0 && out.buffer.byteLength >= out.length;
    const own = alone ? out : Buffer.from(out);
    const crc = crc32(input);
    parentPort.postMessage(
      { id, output: own.buffer, size: own.length, crc, length: input.length, input: input.buffer },
      [own.buffer, input.buffer],
    );
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
});
`;

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Queued {
  job: DeflateJob;
  resolve: (block: DeflatedBlock) => void;
  reject: (err: Error) => void;
}

/**
 * Worker threads that compress blocks, shared by every pack of the process and created on
 * first use. A worker is unref'd while idle, so the pool never keeps a process alive, and
 * ref'd while it works, so a process waiting for a block does not exit. Jobs run in the
 * order submitted, at most `threads` at once (the largest `threads` asked for so far).
 */
class DeflatePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private readonly running = new Map<number, Queued & { slot: Slot }>();
  private nextId = 0;

  run(job: DeflateJob, threads: number): Promise<DeflatedBlock> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      while (this.slots.length < threads) this.slots.push(this.spawn());
      this.dispatch();
    });
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, busy: false };
    // An unref() before the thread is online does not hold: repeat it once it is.
    worker.unref();
    worker.on('online', () => {
      if (!slot.busy) worker.unref();
    });
    worker.on('message', (m: WorkerReply) => this.settle(slot, m));
    worker.on('error', (err) => this.lose(slot, err));
    worker.on('exit', (code) => this.lose(slot, new Error(`deflate worker exited (${code})`)));
    return slot;
  }

  /** Hands queued jobs to idle workers. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      const id = this.nextId++;
      slot.busy = true;
      slot.worker.ref();
      this.running.set(id, { ...next, slot });
      const { input, dictionary, level } = next.job;
      slot.worker.postMessage({ id, input, dictionary, level }, [input.buffer]);
    }
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const job = this.running.get(reply.id);
    this.running.delete(reply.id);
    slot.busy = false;
    slot.worker.unref();
    if (job) {
      if (reply.error !== undefined) job.reject(new Error(`deflate: ${reply.error}`));
      else {
        const output = Buffer.from(reply.output!, 0, reply.size);
        job.resolve({ output, crc: reply.crc!, length: reply.length! });
        releaseBlock(reply.input!);
      }
    }
    this.dispatch();
  }

  /** A worker died: its job fails, a new worker takes its place for the rest. */
  private lose(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const [id, job] of this.running) {
      if (job.slot !== slot) continue;
      this.running.delete(id);
      job.reject(err);
    }
    if (this.queue.length > 0) {
      this.slots.push(this.spawn());
      this.dispatch();
    }
  }
}

interface WorkerReply {
  id: number;
  /** The job's input memory, handed back. */
  input?: ArrayBuffer;
  output?: ArrayBuffer;
  size?: number;
  crc?: number;
  length?: number;
  error?: string;
}

let pool: DeflatePool | undefined;

/**
 * Compresses one block on a worker thread; at most `threads` blocks compress at once across
 * the process. `job.input` must own its ArrayBuffer (a Buffer from `Buffer.allocUnsafeSlow`
 * or a large `allocUnsafe`): it is transferred, not copied.
 */
export function deflateOnWorker(job: DeflateJob, threads: number): Promise<DeflatedBlock> {
  pool ??= new DeflatePool();
  return pool.run(job, threads);
}
