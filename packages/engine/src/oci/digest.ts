import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StackerError } from '../errors';

/**
 * Digests as the OCI spec writes them: `<algorithm>:<encoded>`. We only produce and accept
 * sha256, the one algorithm every tool reads and the only one stacker writes; a layout is
 * addressed as `blobs/sha256/<hex>`.
 */
const SHA256_DIGEST = /^sha256:([a-f0-9]{64})$/;

/** True for a well-formed `sha256:<64 lower-case hex>` digest. */
export function isDigest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

/**
 * The hex part of a digest. Anything else is refused, so a digest taken from a manifest can
 * never name a path outside `blobs/sha256` (`sha256:../../x`).
 */
export function digestHex(digest: string): string {
  const match = SHA256_DIGEST.exec(digest);
  if (!match?.[1]) {
    throw new StackerError(
      `invalid digest "${digest}": only sha256:<64 hex digits> is supported`,
      {},
      'the manifest or index referring to it is corrupt or was written by an unsupported tool',
    );
  }
  return match[1];
}

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * A pass-through stream that hashes and counts what flows through it. Put one on each side
 * of a compressor to get a layer's digest and diff ID in the same pass as writing it.
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private result: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.result = `sha256:${this.hash.digest('hex')}`;
    done();
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.count;
  }

  /** The digest of everything that went through; only once the stream has ended. */
  get digest(): string {
    if (this.result === undefined) throw new Error('DigestStream: digest read before the end');
    return this.result;
  }
}
