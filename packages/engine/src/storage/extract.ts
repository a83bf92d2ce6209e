import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, openSync, readdirSync, readSync, renameSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StackerError } from '../errors';
import { hashFile } from '../layer-types/blob';
import { findTool } from '../layer-types/tools';
import { kindOfMediaType, type LayerKind } from '../layer-types/types';
import { unpackImageLayer } from '../layer-types/unpack';
import type { Logger } from '../log';
import { errnoCode } from '../util/fs';
import { ownerTag } from '../util/process';
import { readBlob } from './blob-reader';
import { TarReader } from './extract-tar-reader';
import { LayerWriter } from './extract-writer';

export interface ExtractOptions {
  /** The layer blob (compressed or not). */
  blobPath: string;
  /** Its media type, from the manifest's layer descriptor. */
  mediaType: string;
  /** Directory to create with the layer's content; it must not be in use. */
  target: string;
  /** The blob's digest, from the descriptor; verified while reading. */
  digest: string;
  logger?: Logger;
  /** PATH for unsquashfs and mount (squashfs and erofs layers); default: ours. */
  env?: NodeJS.ProcessEnv;
}

export interface ExtractResult {
  /** False when `target` was already there (extracted earlier or by another process). */
  extracted: boolean;
}

/** What the native helper and chown need: being root (or root in our user namespace). */
const isRoot = () => process.getuid?.() === 0;

/**
 * Extracts an OCI tar layer into `target` in overlayfs on-disk format (whiteouts as 0:0
 * devices, opaque dirs as `user.overlay.opaque=y`; see LayerWriter), ready to be a lower
 * dir. gzip, zstd, xz and bzip2 are detected by their magic bytes, whatever the media type
 * says. squashfs and erofs layers (stacker's types) already hold a tree in that format and
 * are copied as they are (see layer-types/unpack.ts), after their digest is checked.
 *
 * Content addressed and atomic: the layer is written to `<target>.tmp-<owner>-<random>` (the
 * owner lets a later build remove what a killed one left, see Roots.removeStaleTemps) and
 * renamed to `target` only when complete and its digest verified, so `target` existing means
 * it is complete. If `target` already has content, nothing is done; if another process renames
 * its copy first, ours is dropped. On any failure the temp dir is removed and the error
 * names the blob digest and the entry being read. Ownership is restored only when root.
 */
export async function extractLayer(opts: ExtractOptions): Promise<ExtractResult> {
  const { target, digest } = opts;
  const kind = kindOfMediaType(opts.mediaType);
  if (!kind) {
    throw new StackerError(
      `unknown media type ${opts.mediaType}`,
      { step: 'base' },
      `layer ${digest} cannot be extracted; tar (uncompressed, gzip or zstd), squashfs and ` +
        'erofs layers are supported',
    );
  }
  if (hasContent(target)) return { extracted: false };

  const started = Date.now();
  const tmp = `${target}.tmp-${ownerTag()}-${randomBytes(6).toString('hex')}`;
  // A parent made here is private: a partial layer is not for other users to look into.
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  await mkdir(tmp, { mode: 0o755 });
  if (kind === 'tar') await extractTar(opts, tmp);
  else await extractImage(opts, kind, tmp);

  const extracted = await moveIntoPlace(tmp, target);
  opts.logger?.debug(`extracted layer ${digest} in ${Date.now() - started} ms`);
  return { extracted };
}

/** Extracts a tar layer into the fresh dir `tmp`; removes `tmp` on failure. */
async function extractTar(opts: ExtractOptions, tmp: string): Promise<void> {
  const writer = new LayerWriter(tmp, { chown: isRoot() });
  const reader = new TarReader((entry) => writer.entry(entry));
  try {
    await unpack(opts, reader, writer);
  } catch (err) {
    writer.abort();
    await removeTree(tmp);
    throw extractError(opts, reader.position(), err);
  }
}

/** Checks a squashfs or erofs blob's digest, then extracts it into `tmp`. */
async function extractImage(
  opts: ExtractOptions,
  kind: Exclude<LayerKind, 'tar'>,
  tmp: string,
): Promise<void> {
  try {
    const { digest } = await hashFile(opts.blobPath);
    if (digest !== opts.digest) {
      throw new Error(`content does not match its digest (it hashes to ${digest})`);
    }
    await unpackImageLayer({ blobPath: opts.blobPath, kind, target: tmp, env: opts.env });
  } catch (err) {
    await removeTree(tmp);
    throw extractError(opts, '', err);
  }
}

/**
 * Blob -> (gunzip) -> tar reader -> writer, in one pass, then the digest check. The blob is
 * read, hashed and decompressed on another thread (see readBlob) while this one writes.
 */
async function unpack(opts: ExtractOptions, reader: TarReader, writer: LayerWriter) {
  const compression = compressionOf(opts.blobPath);
  if (compression !== 'gzip' && compression !== undefined) {
    return unpackWithProgram(opts, DECOMPRESSORS[compression], reader, writer);
  }
  const blob = readBlob(opts.blobPath, { gzip: compression === 'gzip' });
  for await (const chunk of blob.chunks) {
    reader.push(chunk);
    if (writer.needsFlush) await writer.flush();
  }
  reader.end();
  if (blob.digest() !== opts.digest) {
    throw new Error(`content does not match its digest (it hashes to ${blob.digest()})`);
  }
  await writer.finish();
}

type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** The programs that decompress what Node cannot: zstd (`tar+zstd` layers), xz and bzip2. */
const DECOMPRESSORS: Record<Exclude<Compression, 'gzip'>, { program: string; args: string[] }> = {
  zstd: { program: 'zstd', args: ['-d', '-c', '-q'] },
  xz: { program: 'xz', args: ['-d', '-c', '-q'] },
  bzip2: { program: 'bzip2', args: ['-d', '-c', '-q'] },
};

/**
 * A compressed tar Node cannot read: a `tar+zstd` layer (as skopeo and other builders make
 * them) or a tar base compressed with zstd, xz or bzip2. The digest is checked first, then
 * the decompressing program streams the tar into the reader.
 */
async function unpackWithProgram(
  opts: ExtractOptions,
  tool: { program: string; args: string[] },
  reader: TarReader,
  writer: LayerWriter,
) {
  const env = opts.env ?? process.env;
  const path = findTool(tool.program, env, `extracting a ${tool.program}-compressed layer`, '');
  const { digest } = await hashFile(opts.blobPath);
  if (digest !== opts.digest) {
    throw new Error(`content does not match its digest (it hashes to ${digest})`);
  }
  const child = spawn(path, [...tool.args, opts.blobPath], {
    env: { PATH: env.PATH ?? '', LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (said.length < 4096) said += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  try {
    for await (const chunk of child.stdout) {
      reader.push(chunk as Buffer);
      if (writer.needsFlush) await writer.flush();
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw err;
  }
  const code = await exited;
  if (code !== 0) {
    const reason = said.trim().split('\n').pop() || `exit status ${code}`;
    throw new Error(`${tool.program} could not decompress it: ${reason}`);
  }
  reader.end();
  await writer.finish();
}

/** The blob's compression, by its magic bytes. */
function compressionOf(path: string): Compression | undefined {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(6);
    const n = readSync(fd, magic, 0, 6, 0);
    const starts = (...bytes: number[]) =>
      n >= bytes.length && bytes.every((b, i) => magic[i] === b);
    if (starts(0x1f, 0x8b)) return 'gzip';
    if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
    if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
    if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function hasContent(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * rename(2) replaces an empty `target` and fails on a non-empty one: in that case another
 * process extracted the same layer first, and its copy is as good as ours.
 */
async function moveIntoPlace(tmp: string, target: string): Promise<boolean> {
  try {
    renameSync(tmp, target);
    return true;
  } catch (err) {
    await removeTree(tmp);
    const code = errnoCode(err);
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && hasContent(target)) return false;
    throw new StackerError(
      `couldn't move extracted layer into ${target}: ${(err as Error).message}`,
    );
  }
}

/**
 * Deletes a (partial) extraction. Without root, directories the layer made read-only must
 * be made writable again first.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    if (errnoCode(err) !== 'EACCES' && errnoCode(err) !== 'EPERM') throw err;
    makeDirsWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

function makeDirsWritable(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) makeDirsWritable(join(dir, entry.name));
  }
}

function extractError(opts: ExtractOptions, position: string, err: unknown): StackerError {
  const where = position === '' ? '' : ` ${position}`;
  const detail = err instanceof Error ? err.message : String(err);
  // Our own errors (a missing tool, say) know better what to do than the generic hint.
  const hint =
    err instanceof StackerError && err.hint
      ? err.hint
      : 'the blob is corrupt, hostile or uses a tar feature we do not support';
  return new StackerError(
    `couldn't extract layer ${opts.digest} (${opts.blobPath})${where}: ${detail}`,
    { step: 'base' },
    hint,
    { cause: err },
  );
}
