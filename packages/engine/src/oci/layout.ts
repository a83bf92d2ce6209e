import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { withLock } from '../storage/lock';
import { errnoCode, fsyncDir, isDiskFull } from '../util/fs';
import { ownerTag } from '../util/process';
import { digestHex, sha256Digest } from './digest';
import { collectGarbage, type GcResult, TEMP_BLOB_PREFIX } from './gc';
import {
  findTag,
  readIndexFile,
  tagsOf,
  withoutTags,
  withTags,
  writeIndexFile,
} from './index-json';
import { createLayout, inspectDir } from './layout-create';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE_CONFIG,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_MANIFEST,
  type Tag,
} from './types';

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
 *
 * Blobs are written atomically (temp file in `blobs/sha256`, then rename) and are immutable,
 * so concurrent writers of the same digest are harmless. index.json is only ever replaced
 * atomically, under a lock file shared by every nx-stacker process using the layout, so two
 * builds tagging into the same layout never lose each other's tags. Reading tags takes no
 * lock: a reader sees the index before or after an update, never a mix.
 */
export class OciLayout {
  /** Absolute path of the layout. */
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Opens the layout at `dir`. With `create`, a missing directory (or an existing empty one)
   * becomes a new empty layout; the creation is atomic, so processes racing to create the
   * same layout all end up opening the one that won. Errors are stacker's (spec §3.1 step 3).
   */
  static async open(dir: string, opts: { create: boolean; logger?: Logger }): Promise<OciLayout> {
    const abs = resolve(dir);
    const state = inspectDir(abs, dir);
    // Opened to read: leave it as it is (it may be read-only, or another process's output).
    if (state === 'layout') return opts.create ? OciLayout.opened(abs) : new OciLayout(abs);
    if (state === 'not-layout' || !opts.create) {
      const problem =
        state === 'missing'
          ? `could not open OCI layout at "${dir}": no such directory`
          : `parameter oci-dir="${dir}" exists but does not look like an OCI Layout.`;
      throw new StackerError(problem, {}, 'expected a directory holding index.json');
    }

    opts.logger?.info(`Creating new OCI Layout at "${dir}"`);
    await createLayout(abs, dir);
    return OciLayout.opened(abs);
  }

  private static async opened(abs: string): Promise<OciLayout> {
    await mkdir(join(abs, 'blobs', 'sha256'), { recursive: true });
    return new OciLayout(abs);
  }

  /** Path of the blob `digest` (which need not exist). Refuses malformed digests. */
  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  /** Whether the blob `digest` is present. */
  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /**
   * A fresh path in `blobs/sha256` to stream a blob into before `writeBlobFromFile`; being on
   * the same filesystem makes the final rename atomic.
   */
  tempBlobPath(): string {
    const name = `${TEMP_BLOB_PREFIX}${ownerTag()}-${randomBytes(8).toString('hex')}`;
    return join(this.dir, 'blobs', 'sha256', name);
  }

  /** Stores `data` as a blob and returns its descriptor. An existing blob is kept. */
  async writeBlob(
    data: Buffer | string,
    mediaType: string,
    annotations?: Record<string, string>,
  ): Promise<Descriptor> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = sha256Digest(bytes);
    if (!this.keepExisting(digest)) {
      const tmp = this.tempBlobPath();
      try {
        writeFileSync(tmp, bytes, { mode: 0o644 });
      } catch (err) {
        rmSync(tmp, { force: true });
        throw this.writeError(digest, err);
      }
      this.commitTemp(tmp, digest);
    }
    return descriptor(mediaType, digest, bytes.length, annotations);
  }

  /**
   * Moves a fully written temp file (from `tempBlobPath`) into place as blob `digest`. The
   * caller computed `digest` and `size` while writing; they are trusted, not re-read. If the
   * blob already exists the temp file is deleted and the existing blob kept.
   */
  async writeBlobFromFile(
    tmpPath: string,
    digest: string,
    size: number,
    mediaType: string,
    annotations?: Record<string, string>,
  ): Promise<Descriptor> {
    if (this.keepExisting(digest)) rmSync(tmpPath, { force: true });
    else this.commitTemp(tmpPath, digest);
    return descriptor(mediaType, digest, size, annotations);
  }

  /**
   * An existing blob is kept, and its mtime refreshed: gc spares blobs written after it
   * started, and a build reusing an old unreferenced blob is writing it in that sense.
   */
  private keepExisting(digest: string): boolean {
    const path = this.blobPath(digest);
    try {
      const now = new Date();
      utimesSync(path, now, now);
      return true;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return false;
      // Someone else's blob in a shared layout: it exists, we just cannot touch it.
      if (code === 'EPERM' || code === 'EACCES') return true;
      throw this.writeError(digest, err);
    }
  }

  /** fsync, rename into place, fsync the directory: the blob is durable once tagged. */
  private commitTemp(tmp: string, digest: string): void {
    try {
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.blobPath(digest));
      fsyncDir(join(this.dir, 'blobs', 'sha256'));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw this.writeError(digest, err);
    }
  }

  private writeError(digest: string, err: unknown): StackerError {
    return new StackerError(
      `couldn't write blob ${digest} in ${this.dir}: ${(err as Error).message}`,
      { step: 'write' },
      isDiskFull(err) ? this.diskFullHint() : undefined,
      { cause: err },
    );
  }

  /** What to do when the layout's filesystem is full, and what did not happen. */
  diskFullHint(): string {
    return (
      `free space in ${this.dir} and build again; ` +
      `the images already tagged in ${this.dir} are unchanged`
    );
  }

  /** Replaces index.json; the old one stays in place if that fails. */
  private writeIndex(index: ImageIndex): void {
    try {
      writeIndexFile(this.indexPath, index);
    } catch (err) {
      throw new StackerError(
        `couldn't update ${this.indexPath}: ${(err as Error).message}`,
        { step: 'write' },
        isDiskFull(err) ? this.diskFullHint() : undefined,
        { cause: err },
      );
    }
  }

  /**
   * The bytes of a blob, checked against its digest (and size, given a descriptor). Reads
   * the whole blob into memory: meant for manifests, configs and indexes; layers are read
   * from `blobPath` as streams.
   */
  async readBlob(target: Descriptor | string): Promise<Buffer> {
    const { digest, size } = typeof target === 'string' ? { digest: target, size: -1 } : target;
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(digest));
    } catch (err) {
      const what = errnoCode(err) === 'ENOENT' ? 'not found' : (err as Error).message;
      throw new StackerError(`blob ${digest} ${what} in OCI layout ${this.dir}`);
    }
    const actual = sha256Digest(data);
    if (actual !== digest || (size >= 0 && data.length !== size)) {
      throw new StackerError(
        `blob ${digest} in ${this.dir} is corrupt: ${data.length} bytes hashing to ${actual}`,
        {},
        'delete the blob (or the whole OCI dir) and build again',
      );
    }
    return data;
  }

  /** A JSON blob (manifest, config, index) parsed, after checking its digest. */
  async readJson<T>(target: Descriptor): Promise<T> {
    const data = await this.readBlob(target);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (err) {
      throw new StackerError(
        `blob ${target.digest} (${target.mediaType}) is not valid JSON: ${(err as Error).message}`,
      );
    }
  }

  /** index.json as it is now. */
  readIndex(): ImageIndex {
    return readIndexFile(this.indexPath);
  }

  /** Every tag, in index order. */
  tags(): Tag[] {
    return tagsOf(this.readIndex());
  }

  /** The descriptor tagged `name`, or undefined. */
  resolveTag(name: string): Descriptor | undefined {
    return findTag(this.readIndex(), name);
  }

  /**
   * Points each tag at its descriptor, in order (stacker's rule: the tag's old entry goes,
   * the new one is appended; other tags stay). Every descriptor must name a blob of this
   * layout, and a manifest's config and layers must be present too; checked under the
   * lock, so a concurrent gc cannot remove them between the check and the update.
   */
  async updateTags(changes: Tag[]): Promise<void> {
    if (changes.length === 0) return;
    await this.locked(async () => {
      for (const change of changes) await this.assertComplete(change);
      this.writeIndex(withTags(this.readIndex(), changes));
    });
  }

  /** Removes the named tags (their blobs stay until gc). */
  async removeTags(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.locked(async () => {
      this.writeIndex(withoutTags(this.readIndex(), names));
    });
  }

  /**
   * Writes an image: the config blob, then the manifest blob with its `config` descriptor
   * filled in. Returns the manifest's descriptor. Does not tag it: call `updateTags`.
   */
  async writeImage(image: { manifest: ImageManifest; config: ImageConfig }): Promise<Descriptor> {
    const config = await this.writeBlob(JSON.stringify(image.config), MEDIA_TYPE_CONFIG);
    const manifest: ImageManifest = {
      ...image.manifest,
      schemaVersion: 2,
      mediaType: image.manifest.mediaType ?? MEDIA_TYPE_MANIFEST,
      config: { ...image.manifest.config, mediaType: MEDIA_TYPE_CONFIG, ...pick(config) },
    };
    return this.writeBlob(JSON.stringify(manifest), manifest.mediaType ?? MEDIA_TYPE_MANIFEST);
  }

  /**
   * Deletes blobs nothing reaches: not index.json (tags -> indexes -> manifests -> config and
   * layers) and not `keep`, descriptors the caller keeps elsewhere (untagged images recorded
   * in the build cache). Blobs modified at or after `olderThan` (default: when gc starts) are
   * kept, so a build that wrote blobs and has not tagged them yet keeps them; a caller
   * running builds concurrently should pass the start time of the oldest one. Holds the
   * index lock throughout, so no tag can be pointed at a blob while it is being deleted.
   */
  async gc(opts: { olderThan?: Date; keep?: Descriptor[] } = {}): Promise<GcResult> {
    const cutoff = opts.olderThan ?? new Date();
    return this.locked(() => collectGarbage(this, cutoff, opts.keep ?? []));
  }

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.dir, '.index.json.lock'), fn);
  }

  /** A tag may only point at content that is all there. */
  private async assertComplete({ name, descriptor }: Tag): Promise<void> {
    const missing = (digest: string) =>
      new StackerError(
        `can't tag ${name}: blob ${digest} is missing from OCI layout ${this.dir}`,
        {},
        'it was probably garbage-collected; build the layer again',
      );
    if (!this.hasBlob(descriptor.digest)) throw missing(descriptor.digest);
    if (![MEDIA_TYPE_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST].includes(descriptor.mediaType)) return;
    const manifest = await this.readJson<ImageManifest>(descriptor);
    for (const ref of [manifest.config, ...(manifest.layers ?? [])]) {
      if (!this.hasBlob(ref.digest)) throw missing(ref.digest);
    }
  }

  /** Blob file names in `blobs/sha256` with their mtime and size; for gc. */
  async listBlobFiles(): Promise<{ name: string; path: string; mtimeMs: number; size: number }[]> {
    const dir = join(this.dir, 'blobs', 'sha256');
    const files = [];
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile()) files.push({ name, path, mtimeMs: info.mtimeMs, size: info.size });
    }
    return files;
  }
}

function descriptor(
  mediaType: string,
  digest: string,
  size: number,
  annotations?: Record<string, string>,
): Descriptor {
  return annotations && Object.keys(annotations).length > 0
    ? { mediaType, digest, size, annotations }
    : { mediaType, digest, size };
}

function pick(d: Descriptor): { digest: string; size: number } {
  return { digest: d.digest, size: d.size };
}
