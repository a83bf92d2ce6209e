/**
 * dm-verity for squashfs and erofs layers, laid out as stacker (through atomfs and
 * libcryptsetup) lays it out, so stacker's tools mount our layers with verity checked:
 * the hash area (a verity superblock, then the hash tree) is appended to the image file,
 * starting at the end of the filesystem image; sha256, format version 1, 4096-byte data and
 * hash blocks; the hex root hash goes into the layer descriptor's
 * `io.stackeroci.stacker.atomfs_verity_root_hash` annotation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { StackerError } from '../errors';
import { uuidFrom } from './erofs';
import { runTool } from './tools';

/** Data and hash block size: the page size stacker uses on x86-64 and most arm64 hosts. */
export const VERITY_BLOCK_SIZE = 4096;

/**
 * Appends a verity hash tree to `file` and returns the root hash (hex). `file` must be a
 * whole number of 4 KiB blocks (mksquashfs and mkfs.erofs pad to that); the hash area starts
 * at its current size, which is how a reader finds it (the filesystem size rounded up to
 * 4 KiB).
 *
 * stacker lets libcryptsetup pick a random salt (and the superblock a random UUID), so its
 * verity layers never reproduce. With `reproducible` (SOURCE_DATE_EPOCH is set) the salt is
 * the sha256 of the filesystem image and the UUID derives from it: the same image gives the
 * same hash tree, and different images still get different salts. Otherwise both are
 * random, as in stacker.
 */
export async function appendVerity(args: {
  file: string;
  reproducible: boolean;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}): Promise<string> {
  const size = statSync(args.file).size;
  if (size === 0 || size % VERITY_BLOCK_SIZE !== 0) {
    throw new StackerError(
      `bad verity file size ${size}`,
      { step: 'pack' },
      `the filesystem image must be a whole number of ${VERITY_BLOCK_SIZE}-byte blocks`,
    );
  }
  const salt = args.reproducible ? await sha256File(args.file) : randomBytes(32);
  const uuid = args.reproducible ? [`--uuid=${uuidFrom(salt)}`] : [];

  const { stdout } = await runTool({
    name: 'veritysetup',
    args: [
      'format',
      '--hash=sha256',
      '--format=1',
      `--data-block-size=${VERITY_BLOCK_SIZE}`,
      `--hash-block-size=${VERITY_BLOCK_SIZE}`,
      `--data-blocks=${size / VERITY_BLOCK_SIZE}`,
      `--hash-offset=${size}`,
      `--salt=${salt.toString('hex')}`,
      ...uuid,
      args.file,
      args.file,
    ],
    env: { PATH: args.env.PATH ?? process.env.PATH ?? '', LC_ALL: 'C' },
    what: 'verity (turn it off with --no-verity)',
    failure: "couldn't append verity data",
    signal: args.signal,
  });
  const rootHash = /^Root hash:\s*([0-9a-f]+)\s*$/m.exec(stdout)?.[1];
  if (!rootHash) {
    throw new StackerError(
      `couldn't append verity data: no root hash in veritysetup's output: ${stdout.trim()}`,
      { step: 'pack' },
    );
  }
  return rootHash;
}

async function sha256File(path: string): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}
