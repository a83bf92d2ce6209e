/**
 * The tar format of OCI layers: POSIX ustar headers plus PAX extended headers ('x'), encoded
 * and decoded here byte by byte.
 *
 * Why not tar-stream for this: it carries PAX values as JavaScript strings, so a binary
 * xattr (security.capability, ACLs) is mangled by UTF-8 conversion on both the write and the
 * read side. Owning the framing also fixes the exact bytes we write (field layout, PAX record
 * order), which layer digests depend on.
 */

export const BLOCK_SIZE = 512;

/** Entry types we write and read, by ustar typeflag. */
export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

const TYPEFLAG: Record<TarType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/** One entry's metadata; `mtime` in whole seconds, `xattrs` as raw bytes. */
export interface TarHeader {
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Written as PAX `SCHILY.xattr.<name>` records in the order given. */
  xattrs?: [string, Buffer][];
}

/** Largest value of an octal field of `width` bytes (digits plus a NUL). */
const maxOctal = (width: number) => 8 ** (width - 1) - 1;

/**
 * The header block(s) of one entry: a PAX header first when a value does not fit ustar
 * (long or non-ASCII names, big ids, sizes or times) or when there are xattrs. The data and
 * its padding (`paddingFor(size)`) are the caller's to write.
 */
export function encodeHeader(header: TarHeader): Buffer {
  const records: Buffer[] = [];
  const ustarName = splitUstarName(header.name);
  if (!ustarName) records.push(paxRecord('path', Buffer.from(header.name)));
  const linkname = header.linkname ?? '';
  if (!isAscii(linkname) || Buffer.byteLength(linkname) > 100) {
    records.push(paxRecord('linkpath', Buffer.from(linkname)));
  }
  for (const key of ['size', 'uid', 'gid', 'mtime'] as const) {
    const width = key === 'size' || key === 'mtime' ? 12 : 8;
    const value = header[key];
    if (value < 0 || value > maxOctal(width)) records.push(paxRecord(key, Buffer.from(`${value}`)));
  }
  for (const [name, value] of header.xattrs ?? []) {
    records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  }

  const main = ustarBlock(header, ustarName ?? { name: asciiTail(header.name), prefix: '' });
  if (records.length === 0) return main;
  const body = Buffer.concat(records);
  const pax = ustarBlock(
    {
      name: '',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: Math.min(Math.max(header.mtime, 0), maxOctal(12)),
    },
    { name: paxHeaderName(header.name), prefix: '' },
    'x',
  );
  return Buffer.concat([pax, body, Buffer.alloc(paddingFor(body.length)), main]);
}

/** Two zero blocks: the end of an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK_SIZE);
}

/** Zero bytes needed after `size` bytes of data to reach a block boundary. */
export function paddingFor(size: number): number {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? 0 : BLOCK_SIZE - rest;
}

function ustarBlock(
  header: TarHeader,
  where: { name: string; prefix: string },
  typeflag = TYPEFLAG[header.type],
): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.write(where.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, header.mode & 0o7777);
  writeOctal(block, 108, 8, header.uid);
  writeOctal(block, 116, 8, header.gid);
  writeOctal(block, 124, 12, header.size);
  writeOctal(block, 136, 12, header.mtime);
  block.write(typeflag, 156, 1, 'ascii');
  const linkname = header.linkname ?? '';
  if (isAscii(linkname) && linkname.length <= 100) block.write(linkname, 157, 100, 'ascii');
  block.write('ustar\u000000', 257, 8, 'ascii');
  writeOctal(block, 329, 8, header.devmajor ?? 0);
  writeOctal(block, 337, 8, header.devminor ?? 0);
  block.write(where.prefix, 345, 155, 'utf8');

  // The checksum is computed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

/** Octal digits then a NUL; values out of range are written as 0 (a PAX record has them). */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  const fits = value >= 0 && value <= maxOctal(width);
  block.write(`${(fits ? value : 0).toString(8).padStart(width - 1, '0')}\u0000`, offset, 'ascii');
}

/** ustar's name/prefix split of an ASCII name, or undefined when it needs a PAX path. */
function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const rest = name.slice(i + 1);
    if (rest.length > 0 && rest.length <= 100) return { name: rest, prefix: name.slice(0, i) };
  }
  return undefined;
}

/** `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const tail = Buffer.byteLength(key) + value.length + 3;
  let length = tail + `${tail}`.length;
  if (`${length}`.length !== `${tail}`.length) length = tail + `${length}`.length;
  return Buffer.concat([Buffer.from(`${length} ${key}=`), value, Buffer.from('\n')]);
}

/** A readable, deterministic name for the PAX header entry of `name`. */
function paxHeaderName(name: string): string {
  const base = name.replace(/\/$/, '').split('/').pop() ?? '';
  return `PaxHeaders/${asciiTail(base)}`.slice(0, 100);
}

/**
 * What readers that ignore PAX see as the name: the last 100 characters, non-printable and
 * non-ASCII ones replaced.
 */
function asciiTail(name: string): string {
  return name.replace(/[^\u0020-\u007e]/g, '_').slice(-100);
}

function isAscii(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is excluded on purpose
  return /^[\u0001-\u007f]*$/.test(text);
}

/** A header as read, before PAX and GNU long-name records are applied. */
export interface RawHeader {
  name: Buffer;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
}

/**
 * Decodes one header block; undefined for an all-zero block (end of archive). Throws on a
 * bad checksum or an unparsable number, with a message saying which.
 */
export function decodeHeader(block: Buffer): RawHeader | undefined {
  if (block.every((byte) => byte === 0)) return undefined;
  verifyChecksum(block);

  const magic = block.toString('latin1', 257, 263);
  const isUstar = magic === 'ustar\u0000';
  let name = cString(block, 0, 100);
  const prefix = isUstar ? cString(block, 345, 155) : Buffer.alloc(0);
  if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);

  const flag = block[156] ?? 0;
  return {
    name,
    typeflag: flag === 0 ? '0' : String.fromCharCode(flag),
    mode: readNumber(block, 100, 8, 'mode'),
    uid: readNumber(block, 108, 8, 'uid'),
    gid: readNumber(block, 116, 8, 'gid'),
    size: readNumber(block, 124, 12, 'size'),
    mtime: readNumber(block, 136, 12, 'mtime'),
    linkname: cString(block, 157, 100),
    devmajor: readNumber(block, 329, 8, 'devmajor'),
    devminor: readNumber(block, 337, 8, 'devminor'),
  };
}

function verifyChecksum(block: Buffer): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const stored = readNumber(block, 148, 8, 'checksum');
  if (stored !== unsigned && stored !== signed) {
    throw new Error('invalid tar header: checksum mismatch (corrupt archive or not a tar)');
  }
}

function cString(block: Buffer, offset: number, width: number): Buffer {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end));
}

/** An octal field (spaces and NULs around it allowed) or a GNU base-256 one. */
function readNumber(block: Buffer, offset: number, width: number, what: string): number {
  const field = block.subarray(offset, offset + width);
  const first = field[0] ?? 0;
  if (first & 0x80) {
    if (first !== 0x80) throw new Error(`invalid tar header: negative ${what}`);
    let value = 0;
    for (let i = 1; i < width; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const nul = field.indexOf(0);
  const text = field.toString('latin1', 0, nul === -1 ? width : nul).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`invalid tar header: bad ${what} field "${text}"`);
  return Number.parseInt(text, 8);
}

/** PAX records as key -> raw value. Throws on a malformed record. */
export function parsePax(body: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break; // padding some writers leave inside the size
    const space = body.indexOf(0x20, at);
    const length = Number.parseInt(body.toString('latin1', at, space), 10);
    if (space < 0 || !(length > 0) || at + length > body.length || body[at + length - 1] !== 10) {
      throw new Error('invalid tar header: malformed PAX record');
    }
    const record = body.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new Error('invalid tar header: PAX record without a key');
    records.set(record.toString('utf8', 0, equals), Buffer.from(record.subarray(equals + 1)));
    at += length;
  }
  return records;
}
