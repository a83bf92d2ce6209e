import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { GZIP_BLOCK_SIZE, ParallelGzip } from '../../src/pack/parallel-gzip';

/** Mixed content over several blocks: text (compressible), random bytes, zeros. */
function sample(): Buffer {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(40_000));
  return Buffer.concat([text, randomBytes(GZIP_BLOCK_SIZE + 12_345), Buffer.alloc(700_000)]);
}

/** `input` through a ParallelGzip, fed in pieces of `chunk` bytes. */
async function compress(input: Buffer, opts: { level: number; threads: number; chunk: number }) {
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; at += opts.chunk) {
    pieces.push(input.subarray(at, at + opts.chunk));
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    new ParallelGzip({ level: opts.level, threads: opts.threads }),
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('the output is the same whatever the thread count and the input chunking', async () => {
  const input = sample();
  const digests = new Set<string>();
  for (const [threads, chunk] of [
    [1, input.length],
    [2, 7_777],
    [3, GZIP_BLOCK_SIZE + 1],
    [8, 65_536],
  ] as const) {
    digests.add(sha(await compress(input, { level: 6, threads, chunk })));
  }
  assert.equal(digests.size, 1);
});

test('GNU gzip reads the output back as the input, at every level', async () => {
  const input = sample();
  for (const level of [0, 1, 6, 9]) {
    const gz = await compress(input, { level, threads: 2, chunk: 100_000 });
    const back = execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 });
    assert.equal(sha(back), sha(input), `level ${level}`);
    assert.deepEqual(gunzipSync(gz), input);
  }
});

test('higher levels compress better, close to a single zlib stream', async () => {
  const input = sample();
  const fast = await compress(input, { level: 1, threads: 2, chunk: 65_536 });
  const best = await compress(input, { level: 9, threads: 2, chunk: 65_536 });
  assert.ok(best.length < fast.length);
  // The random block dominates: the output stays near the incompressible part's size.
  assert.ok(best.length < GZIP_BLOCK_SIZE + 12_345 + 20_000, `${best.length} bytes`);
});

test('an empty input is a valid empty gzip stream with a fixed header', async () => {
  const gz = await compress(Buffer.alloc(0), { level: 6, threads: 2, chunk: 1 });
  assert.deepEqual(gunzipSync(gz), Buffer.alloc(0));
  assert.equal(gz.subarray(0, 10).toString('hex'), '1f8b0800000000000003');
  assert.equal(execFileSync('gzip', ['-dc'], { input: gz }).length, 0);
});
