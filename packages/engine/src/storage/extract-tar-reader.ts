import {
  BLOCK_SIZE,
  decodeHeader,
  paddingFor,
  parsePax,
  type RawHeader,
  type TarType,
} from '../oci/tar-codec';

/** One entry of a layer tar, with PAX and GNU long-name records applied. */
export interface TarEntry {
  /** The name as written (not yet cleaned). */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** xattrs by their name in the layer, raw values. */
  xattrs: Map<string, Buffer>;
}

/** Receives the data of a `file` entry; `end` comes after exactly `size` bytes. */
export interface EntrySink {
  write(chunk: Buffer): void;
  end(): void;
}

/** A tar that cannot be read (the reader's `position()` says where). */
export class TarFormatError extends Error {}

/** Metadata entries (PAX, long names) larger than this are refused: no layer needs them. */
const MAX_META_SIZE = 16 << 20;

const FILE_TYPES: Record<string, TarType> = {
  '0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

type State =
  | { kind: 'header' }
  | { kind: 'meta'; flag: string; left: number; parts: Buffer[]; padding: number }
  | { kind: 'data'; left: number; sink: EntrySink | undefined; padding: number }
  | { kind: 'skip'; left: number }
  | { kind: 'end' };
type MetaState = Extract<State, { kind: 'meta' }>;
type DataState = Extract<State, { kind: 'data' }>;

/**
 * A push parser for tar: feed it chunks in order, it calls `onEntry` synchronously for each
 * entry and streams file data to the returned sink without copying. Knows ustar, PAX ('x'
 * and 'g') and GNU long names ('L', 'K'); refuses sparse and other exotic entry types.
 * Everything after the end-of-archive blocks is ignored.
 */
export class TarReader {
  private state: State = { kind: 'header' };
  private partial: Buffer[] = [];
  private partialSize = 0;
  private pax = new Map<string, Buffer>();
  private globalPax = new Map<string, Buffer>();
  private longName: Buffer | undefined;
  private longLink: Buffer | undefined;
  /** The last entry seen, and whether its data is still being read; for error messages. */
  private lastEntry: string | undefined;
  private inEntry = false;

  constructor(private readonly onEntry: (entry: TarEntry) => EntrySink | undefined) {}

  /** Consumes one chunk. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const state = this.state;
      if (state.kind === 'end') return;
      if (state.kind === 'data') {
        at = this.pushData(state, chunk, at);
        continue;
      }
      if (state.kind === 'skip') {
        const n = Math.min(state.left, chunk.length - at);
        state.left -= n;
        at += n;
        if (state.left === 0) this.state = { kind: 'header' };
        continue;
      }
      if (state.kind === 'meta') {
        at = this.pushMeta(state, chunk, at);
        continue;
      }
      // A header: gather one whole block, usually straight from the chunk.
      if (this.partialSize === 0 && chunk.length - at >= BLOCK_SIZE) {
        this.header(chunk.subarray(at, at + BLOCK_SIZE));
        at += BLOCK_SIZE;
        continue;
      }
      const n = Math.min(BLOCK_SIZE - this.partialSize, chunk.length - at);
      this.partial.push(chunk.subarray(at, at + n));
      this.partialSize += n;
      at += n;
      if (this.partialSize === BLOCK_SIZE) {
        const block = Buffer.concat(this.partial, BLOCK_SIZE);
        this.partial = [];
        this.partialSize = 0;
        this.header(block);
      }
    }
  }

  /** Where reading is, for error messages: `at entry "x"`, `after entry "x"` or ''. */
  position(): string {
    if (this.lastEntry === undefined) return '';
    return `${this.inEntry ? 'at' : 'after'} entry "${this.lastEntry}"`;
  }

  /** Call once the input has ended: throws if it ended inside an entry. */
  end(): void {
    const { kind } = this.state;
    if (kind === 'end' || (kind === 'header' && this.partialSize === 0)) return;
    throw new TarFormatError('unexpected end of archive (truncated layer)');
  }

  private pushData(state: DataState, chunk: Buffer, at: number): number {
    const n = Math.min(state.left, chunk.length - at);
    if (n > 0) {
      state.sink?.write(chunk.subarray(at, at + n));
      state.left -= n;
    }
    if (state.left === 0) {
      state.sink?.end();
      this.inEntry = false;
      this.state = state.padding > 0 ? { kind: 'skip', left: state.padding } : { kind: 'header' };
    }
    return at + n;
  }

  private pushMeta(state: MetaState, chunk: Buffer, at: number): number {
    const n = Math.min(state.left, chunk.length - at);
    state.parts.push(chunk.subarray(at, at + n));
    state.left -= n;
    if (state.left === 0) {
      this.applyMeta(state.flag, Buffer.concat(state.parts));
      this.state = state.padding > 0 ? { kind: 'skip', left: state.padding } : { kind: 'header' };
    }
    return at + n;
  }

  private header(block: Buffer): void {
    let raw: RawHeader | undefined;
    try {
      raw = decodeHeader(block);
    } catch (err) {
      throw new TarFormatError((err as Error).message);
    }
    if (!raw) {
      this.state = { kind: 'end' };
      return;
    }
    const flag = raw.typeflag;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (raw.size > MAX_META_SIZE) {
        throw new TarFormatError(`tar metadata entry of ${raw.size} bytes`);
      }
      const meta: MetaState = { kind: 'meta', flag, left: raw.size, parts: [], padding: 0 };
      meta.padding = paddingFor(raw.size);
      this.state = meta;
      if (raw.size === 0) this.pushMeta(meta, Buffer.alloc(0), 0);
      return;
    }

    const entry = this.entry(raw);
    this.lastEntry = entry.name;
    this.inEntry = true;
    const sink = this.onEntry(entry);
    const dataSize = entry.type === 'file' ? entry.size : 0;
    const padding = paddingFor(dataSize);
    if (dataSize > 0) {
      this.state = { kind: 'data', left: dataSize, sink, padding };
    } else {
      sink?.end();
      this.inEntry = false;
      this.state = { kind: 'header' };
    }
  }

  private applyMeta(flag: string, body: Buffer): void {
    try {
      if (flag === 'L') this.longName = cString(body);
      else if (flag === 'K') this.longLink = cString(body);
      else if (flag === 'g') for (const [k, v] of parsePax(body)) this.globalPax.set(k, v);
      else this.pax = parsePax(body);
    } catch (err) {
      throw new TarFormatError((err as Error).message);
    }
  }

  /** Builds the entry from the header and the records that preceded it, then forgets them. */
  private entry(raw: RawHeader): TarEntry {
    const pax = new Map([...this.globalPax, ...this.pax]);
    const text = (key: string) => pax.get(key)?.toString('utf8');
    // Sizes and ids cannot be negative; a negative size would desynchronise the reader.
    const num = (key: string, fallback: number, min = 0) => {
      const value = text(key);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < min) {
        throw new TarFormatError(`invalid PAX ${key} "${value}"`);
      }
      return Math.floor(parsed);
    };

    const name = text('path') ?? utf8(this.longName ?? raw.name, 'name');
    const entry: TarEntry = {
      name,
      type: entryType(raw, name),
      mode: raw.mode,
      uid: num('uid', raw.uid),
      gid: num('gid', raw.gid),
      size: num('size', raw.size),
      mtime: num('mtime', raw.mtime, Number.NEGATIVE_INFINITY),
      linkname: text('linkpath') ?? utf8(this.longLink ?? raw.linkname, 'link target'),
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs: xattrsOf(pax),
    };
    if ([...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
      throw new TarFormatError(`"${name}": sparse files are not supported in layers`);
    }
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    return entry;
  }
}

function entryType(raw: RawHeader, name: string): TarType {
  const type = FILE_TYPES[raw.typeflag];
  if (!type) {
    throw new TarFormatError(`"${name}": unsupported tar entry type '${raw.typeflag}'`);
  }
  // Pre-POSIX archives mark directories only by a trailing slash.
  return type === 'file' && raw.typeflag !== '7' && name.endsWith('/') ? 'dir' : type;
}

/** SCHILY.xattr.<name> records, and libarchive's LIBARCHIVE.xattr.<url-encoded name> ones. */
function xattrsOf(pax: Map<string, Buffer>): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith('LIBARCHIVE.xattr.')) {
      const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      if (!xattrs.has(name)) xattrs.set(name, Buffer.from(value.toString('latin1'), 'base64'));
    } else if (key.startsWith('SCHILY.xattr.')) {
      xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    }
  }
  return xattrs;
}

function cString(body: Buffer): Buffer {
  const nul = body.indexOf(0);
  return nul === -1 ? body : body.subarray(0, nul);
}

/** Names must be UTF-8: Node addresses files by strings, so other bytes cannot be written. */
function utf8(bytes: Buffer, what: string): string {
  const text = bytes.toString('utf8');
  if (text.includes('\ufffd') && !Buffer.from(text).equals(bytes)) {
    throw new TarFormatError(`${what} is not valid UTF-8 (not supported): ${text}`);
  }
  return text;
}
