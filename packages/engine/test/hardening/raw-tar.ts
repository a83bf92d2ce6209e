/**
 * A deliberately naive tar writer for hostile archives: it writes whatever it is given
 * (names with `..`, PAX records that override names, GNU long-name records, wrong sizes,
 * bad checksums), which well-behaved writers refuse to do. Independent of the engine's
 * tar codec, so the reader is tested against bytes it did not produce.
 */

export interface RawEntry {
  name: string;
  /**
   * ustar typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir,
   * '6' fifo, 'x' PAX, 'L' GNU long name, or anything else to test.
   */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  data?: Buffer | string;
  /** The size written in the header, when it should lie about the data. */
  size?: number;
  /** PAX records written in an 'x' entry just before this one. */
  pax?: Record<string, string>;
  /** Added to the computed checksum, to corrupt it. */
  checksumDelta?: number;
}

const BLOCK = 512;

/** The tar of `entries`, with the two zero blocks at the end unless `end` is false. */
export function rawTar(entries: RawEntry[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.pax) {
      const body = Buffer.concat(Object.entries(entry.pax).map(([k, v]) => paxRecord(k, v)));
      parts.push(header({ name: 'PaxHeader', type: 'x', size: body.length }), pad(body));
    }
    const data = Buffer.from(entry.data ?? '');
    parts.push(header({ ...entry, size: entry.size ?? data.length }));
    if (data.length) parts.push(pad(data));
  }
  if (end) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** A GNU long-name ('L') or long-link ('K') record for the entry that follows. */
export function gnuLong(kind: 'L' | 'K', value: string): RawEntry {
  return { name: '././@LongLink', type: kind, data: Buffer.from(`${value}\0`) };
}

function header(e: RawEntry & { size: number }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(e.name, 0, 100, 'utf8');
  octal(block, 100, 8, e.mode ?? (e.type === '5' ? 0o755 : 0o644));
  octal(block, 108, 8, e.uid ?? 0);
  octal(block, 116, 8, e.gid ?? 0);
  octal(block, 124, 12, e.size);
  octal(block, 136, 12, 1_600_000_000);
  block.write(e.type ?? '0', 156, 1, 'latin1');
  block.write(e.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'latin1');
  octal(block, 329, 8, e.devmajor ?? 0);
  octal(block, 337, 8, e.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  sum += e.checksumDelta ?? 0;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

function octal(block: Buffer, at: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, width, 'latin1');
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

function paxRecord(key: string, value: string): Buffer {
  const tail = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  let length = tail + String(tail).length;
  if (String(length).length !== String(tail).length) length = tail + String(length).length;
  return Buffer.from(`${length} ${key}=${value}\n`);
}
