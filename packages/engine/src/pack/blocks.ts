/**
 * Memory for the 1 MiB blocks a layer is archived and compressed in, reused instead of
 * allocated for every block: a block goes to a compression thread and comes back (see
 * deflate-pool.ts), and each fresh allocation of that size costs page faults.
 */

/** Uncompressed bytes per independently compressed block (see ParallelGzip). */
export const BLOCK_SIZE = 1 << 20;

/** Enough for the blocks in flight of a few packs at once; the rest is left to the GC. */
const KEEP = 32;
const free: ArrayBuffer[] = [];

/** A block-sized buffer that owns its memory (so it can be transferred to a thread). */
export function takeBlock(): Buffer<ArrayBuffer> {
  const memory = free.pop();
  return memory ? Buffer.from(memory) : Buffer.allocUnsafeSlow(BLOCK_SIZE);
}

/** Gives a block's memory back; only memory nothing else refers to any more. */
export function releaseBlock(memory: ArrayBuffer): void {
  if (memory.byteLength === BLOCK_SIZE && free.length < KEEP) free.push(memory);
}
