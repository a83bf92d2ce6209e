import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { applyFsOps, type FsOp } from '../native/fsops';
import {
  AUFS_META_PREFIX,
  diskXattrName,
  OPAQUE_WHITEOUT,
  OVERLAY_OPAQUE_XATTR,
  WHITEOUT_PREFIX,
} from '../oci/layer-format';
import { errnoCode } from '../util/fs';
import {
  baseOf,
  cleanEntryPath,
  isAtOrBelow,
  joinRel,
  parentOf,
  UnsafePathError,
} from './extract-paths';
import type { EntrySink, TarEntry } from './extract-tar-reader';

/** Owner, permissions (with setuid/setgid/sticky) and mtime to give a path. */
interface Meta {
  uid: number;
  gid: number;
  mode: number;
  /** Seconds; undefined leaves the time as it is (implicit parent directories). */
  mtime?: number;
}

/** Work Node cannot do itself, queued for one run of the native helper. */
type PendingNode = { kind: 'mknod'; op: FsOp; meta?: Meta } | { kind: 'link'; target: string };

/** Queued operations above this count are applied before reading on. */
const FLUSH_AT = 4096;

const CREATE_FILE =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writes the entries of one layer tar into `root`, in overlayfs on-disk format (see
 * oci/layer-format.ts): whiteouts become 0:0 character devices, opaque markers an xattr on
 * their directory, `user.overlay.*` xattrs are stored escaped.
 *
 * `root` must be a fresh directory nothing else writes to; that is what makes the checks
 * below race-free. Nothing is written outside it: names are cleaned (`cleanEntryPath`), a
 * path whose parent is not a real directory (a symlink from an earlier entry, say) is
 * refused, and so is a hard link to a target outside or through a symlink. Files are
 * created with O_EXCL|O_NOFOLLOW, so an existing symlink is never written through.
 *
 * Same-layer conflicts follow the OCI spec: a later entry replaces an earlier one, but a
 * whiteout never removes what this same layer wrote (it only hides lower layers).
 */
export class LayerWriter {
  /** Paths known to be real directories (not symlinks) inside root. */
  private readonly dirs = new Set<string>(['']);
  private readonly dirMeta = new Map<string, Meta>();
  private readonly pendingNodes = new Map<string, PendingNode>();
  private readonly pendingXattrs = new Map<string, [string, Buffer][]>();
  private readonly opaque = new Set<string>();
  private openFd: number | undefined;

  constructor(
    private readonly root: string,
    private readonly opts: { chown: boolean },
  ) {}

  /** Whether enough native work is queued that `flush` should run before going on. */
  get needsFlush(): boolean {
    return this.pendingNodes.size + this.pendingXattrs.size >= FLUSH_AT;
  }

  /** Applies one entry; for a regular file with data, returns where the data goes. */
  entry(e: TarEntry): EntrySink | undefined {
    const rel = cleanEntryPath(e.name);
    if (baseOf(rel).startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(rel);
      return undefined;
    }
    const meta: Meta = { uid: e.uid, gid: e.gid, mode: e.mode & 0o7777, mtime: e.mtime };
    if (rel === '') {
      if (e.type !== 'dir') throw new UnsafePathError(`the root entry is a ${e.type}`);
      this.dirMeta.set('', meta);
      this.queueXattrs('', e.xattrs);
      return undefined;
    }

    this.ensureDir(parentOf(rel), true);
    switch (e.type) {
      case 'dir':
        this.directory(rel, meta);
        break;
      case 'file':
        return this.file(rel, e, meta);
      case 'symlink':
        this.symlink(rel, e.linkname, meta);
        break;
      case 'link':
        this.hardlink(rel, e.linkname);
        return undefined;
      default:
        this.node(rel, e, meta);
    }
    this.queueXattrs(rel, e.xattrs);
    return undefined;
  }

  /** Applies queued native work (device nodes, deferred hard links, xattrs). */
  async flush(): Promise<void> {
    const nodes = [...this.pendingNodes];
    const xattrs = [...this.pendingXattrs];
    this.pendingNodes.clear();
    this.pendingXattrs.clear();

    const mknods = nodes.flatMap(([, n]) => (n.kind === 'mknod' ? [n.op] : []));
    if (mknods.length > 0) await applyFsOps(this.root, mknods);
    for (const [rel, node] of nodes) {
      if (node.kind === 'link') this.linkNow(rel, node.target);
      else if (node.meta) this.applyMeta(rel, node.meta, false);
    }

    const ops: FsOp[] = xattrs.flatMap(([rel, list]) =>
      list.map(([name, value]): FsOp => ({ op: 'setxattr', path: rel || '.', name, value })),
    );
    if (ops.length > 0) await applyFsOps(this.root, ops);
  }

  /**
   * Completes the extraction once every entry is written: queued work, opaque markers, then
   * directory owners, modes and mtimes, deepest first (creating entries in a directory
   * changes its mtime, and a read-only mode would stop us writing into it).
   */
  async finish(): Promise<void> {
    for (const dir of this.opaque) {
      if (this.dirs.has(dir)) this.queueXattr(dir, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
    }
    await this.flush();

    if (!this.dirMeta.has('')) this.dirMeta.set('', { uid: -1, gid: -1, mode: 0o755 });
    const deepestFirst = [...this.dirMeta].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, meta] of deepestFirst) {
      if (this.dirs.has(rel)) this.applyMeta(rel, meta, true);
    }
  }

  /** Releases what a failed extraction holds open. */
  abort(): void {
    if (this.openFd !== undefined) closeSync(this.openFd);
    this.openFd = undefined;
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  /**
   * Makes sure `rel` is a real directory, creating missing ones (mode 0755, like tar) when
   * `create` is set. A symlink or a non-directory on the way is refused.
   */
  private ensureDir(rel: string, create: boolean): void {
    if (this.dirs.has(rel)) return;
    this.ensureDir(parentOf(rel), create);
    const abs = this.abs(rel);
    const stat = lstatOrUndefined(abs);
    if (!stat) {
      if (!create) throw new UnsafePathError(`/${rel} does not exist`);
      mkdirSync(abs, 0o755);
      this.forget(rel);
      this.dirMeta.set(rel, { uid: 0, gid: 0, mode: 0o755 });
    } else if (stat.isSymbolicLink()) {
      throw new UnsafePathError(`/${rel} is a symlink, refusing to go through it`);
    } else if (!stat.isDirectory()) {
      throw new UnsafePathError(`/${rel} is not a directory`);
    }
    this.dirs.add(rel);
  }

  private directory(rel: string, meta: Meta): void {
    this.create(rel, true, () => mkdirSync(this.abs(rel), 0o700));
    this.dirs.add(rel);
    this.dirMeta.set(rel, meta);
  }

  private file(rel: string, e: TarEntry, meta: Meta): EntrySink | undefined {
    const fd = this.create(rel, false, () => openSync(this.abs(rel), CREATE_FILE, 0o600));
    if (fd === undefined) throw new Error('unreachable: a file never keeps an existing path');
    this.openFd = fd;
    const done = () => {
      if (this.opts.chown) chownOrExplain(() => fchownSync(fd, meta.uid, meta.gid), meta);
      fchmodSync(fd, meta.mode);
      futimesSync(fd, meta.mtime ?? 0, meta.mtime ?? 0);
      closeSync(fd);
      this.openFd = undefined;
      this.queueXattrs(rel, e.xattrs);
    };
    if (e.size === 0) {
      done();
      return undefined;
    }
    return { write: (chunk) => writeAll(fd, chunk), end: done };
  }

  private symlink(rel: string, target: string, meta: Meta): void {
    this.create(rel, false, () => symlinkSync(target, this.abs(rel)));
    this.applyMeta(rel, meta, false, true);
  }

  /** Devices and FIFOs: Node cannot make them, the native helper does, in batches. */
  private node(rel: string, e: TarEntry, meta: Meta): void {
    this.forget(rel);
    if (lstatOrUndefined(this.abs(rel))) this.clear(rel, false);
    const kind = e.type === 'char' ? 'c' : e.type === 'block' ? 'b' : 'p';
    const op: FsOp = {
      op: 'mknod',
      path: rel,
      mode: meta.mode,
      kind,
      major: e.devmajor,
      minor: e.devminor,
    };
    this.pendingNodes.set(rel, { kind: 'mknod', op, meta });
  }

  /** A hard link must name an existing non-directory inside root, reached without symlinks. */
  private hardlink(rel: string, linkname: string): void {
    const target = cleanEntryPath(linkname);
    if (target === '') throw new UnsafePathError('hard link to the root directory');
    if (target === rel) return;
    try {
      this.ensureDir(parentOf(target), false);
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      throw new UnsafePathError(`hard link target /${target}: ${err.message}`);
    }
    if (this.pendingNodes.has(target)) {
      this.forget(rel);
      if (lstatOrUndefined(this.abs(rel))) this.clear(rel, false);
      this.pendingNodes.set(rel, { kind: 'link', target });
      return;
    }
    this.create(rel, false, () => this.linkNow(rel, target));
  }

  private linkNow(rel: string, target: string): void {
    const stat = lstatOrUndefined(this.abs(target));
    if (!stat) throw new UnsafePathError(`hard link target /${target} does not exist`);
    if (stat.isDirectory()) throw new UnsafePathError(`hard link to directory /${target}`);
    linkSync(this.abs(target), this.abs(rel));
  }

  /**
   * `.wh.<name>` becomes a whiteout device `<name>` unless this layer already wrote that
   * path; `.wh..wh..opq` marks its directory opaque; other `.wh..wh.*` (AUFS) are ignored.
   */
  private whiteout(rel: string): void {
    const dir = parentOf(rel);
    const name = baseOf(rel);
    this.ensureDir(dir, true);
    if (name === OPAQUE_WHITEOUT) {
      this.opaque.add(dir);
      return;
    }
    if (name.startsWith(AUFS_META_PREFIX)) return;
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden === '') throw new UnsafePathError('whiteout without a name');
    const target = joinRel(dir, hidden);
    if (this.pendingNodes.has(target) || lstatOrUndefined(this.abs(target))) return;
    const op: FsOp = { op: 'mknod', path: target, mode: 0, kind: 'c', major: 0, minor: 0 };
    this.pendingNodes.set(target, { kind: 'mknod', op });
  }

  /**
   * Runs `make`, which creates `rel` with O_EXCL semantics. If something is already there it
   * is removed first, except that an existing directory is kept for a directory entry
   * (returns undefined then).
   */
  private create<T>(rel: string, isDir: boolean, make: () => T): T | undefined {
    this.forget(rel);
    try {
      return make();
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      if (this.clear(rel, isDir) === 'kept') return undefined;
      return make();
    }
  }

  /** Removes what is at `rel` (and everything known below it), or keeps a directory. */
  private clear(rel: string, keepDir: boolean): 'kept' | 'removed' {
    const stat = lstatOrUndefined(this.abs(rel));
    if (stat?.isDirectory() && keepDir) return 'kept';
    rmSync(this.abs(rel), { recursive: true, force: true });
    for (const set of [this.dirs, this.opaque]) {
      for (const p of set) if (isAtOrBelow(p, rel)) set.delete(p);
    }
    for (const map of [this.dirMeta, this.pendingNodes, this.pendingXattrs]) {
      for (const p of map.keys()) if (isAtOrBelow(p, rel)) map.delete(p);
    }
    return 'removed';
  }

  /** Drops queued work for a path about to be replaced. */
  private forget(rel: string): void {
    this.pendingNodes.delete(rel);
    this.pendingXattrs.delete(rel);
  }

  private queueXattrs(rel: string, xattrs: Map<string, Buffer>): void {
    for (const [name, value] of xattrs) {
      const diskName = diskXattrName(name);
      if (diskName !== undefined) this.queueXattr(rel, diskName, value);
    }
  }

  private queueXattr(rel: string, name: string, value: Buffer): void {
    const list = this.pendingXattrs.get(rel) ?? [];
    list.push([name, value]);
    this.pendingXattrs.set(rel, list);
  }

  /** Owner first (chown clears setuid/setgid), then mode, then times. */
  private applyMeta(rel: string, meta: Meta, isDir: boolean, isSymlink = false): void {
    const abs = this.abs(rel);
    if (isDir && !lstatOrUndefined(abs)?.isDirectory()) return;
    if (this.opts.chown && meta.uid >= 0) {
      chownOrExplain(() => lchownSync(abs, meta.uid, meta.gid), meta);
    }
    if (!isSymlink) chmodSync(abs, meta.mode);
    if (meta.mtime === undefined) return;
    if (isSymlink) lutimesSync(abs, meta.mtime, meta.mtime);
    else utimesSync(abs, meta.mtime, meta.mtime);
  }
}

/**
 * Runs a chown. EINVAL means the owner has no id in the user namespace of a rootless build
 * (see rootless/): say that rather than "invalid argument".
 */
function chownOrExplain(chown: () => void, meta: Meta): void {
  try {
    chown();
  } catch (err) {
    if (errnoCode(err) !== 'EINVAL') throw err;
    throw new Error(
      `owner ${meta.uid}:${meta.gid} has no id in this user namespace: the builder's ` +
        '/etc/subuid and /etc/subgid ranges are too small for this layer (build as root, or ' +
        'grant more subordinate ids)',
      { cause: err },
    );
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
}

function lstatOrUndefined(abs: string) {
  try {
    return lstatSync(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function depth(rel: string): number {
  if (rel === '') return 0;
  let n = 1;
  for (const ch of rel) if (ch === '/') n++;
  return n;
}
