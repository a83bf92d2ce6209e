import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeHeader, endOfArchive, paddingFor, type TarHeader } from '../../src/oci/tar-codec';
import { run, tempDir } from '../pack/helpers';

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_600_000_000 } as const;

/** A tar made of `entries` (file data given per entry), written to `<dir>/t.tar`. */
function writeTar(dir: string, entries: { header: TarHeader; data?: Buffer }[]): string {
  const parts: Buffer[] = [];
  for (const { header, data } of entries) {
    parts.push(encodeHeader(header));
    if (data) parts.push(data, Buffer.alloc(paddingFor(data.length)));
  }
  parts.push(endOfArchive());
  const path = join(dir, 't.tar');
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

test('GNU tar reads names that need the ustar prefix and names that need PAX', (t) => {
  const dir = tempDir(t);
  const prefixed = `${'p'.repeat(120)}/${'n'.repeat(90)}`;
  const paxOnly = `${'x'.repeat(300)}/file`;
  const unicode = 'dir/ünïcødé ☃';
  const tar = writeTar(dir, [
    { header: { ...base, name: prefixed, type: 'file' } },
    { header: { ...base, name: paxOnly, type: 'file' } },
    { header: { ...base, name: unicode, type: 'file' } },
  ]);

  const names = run('tar', ['-tf', tar]).toString().split('\n').filter(Boolean);
  assert.deepEqual(names, [prefixed, paxOnly, unicode]);
});

test('GNU tar reads long link targets, big ids and device numbers', (t) => {
  const dir = tempDir(t);
  const target = `/${'t'.repeat(150)}`;
  const tar = writeTar(dir, [
    { header: { ...base, name: 'link', type: 'symlink', linkname: target } },
    { header: { ...base, name: 'owned', type: 'file', uid: 3_000_000, gid: 4_000_000 } },
    { header: { ...base, name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 } },
  ]);

  const listing = run('tar', ['--numeric-owner', '-tvf', tar]).toString();
  assert.match(listing, new RegExp(`link -> ${target}`));
  assert.match(listing, /3000000\/4000000 .* owned/);
  assert.match(listing, /crw-rw-rw- .* 1,3 .* null/);
});

// GNU tar 1.34 re-encodes xattr values as text, so Python's tarfile is the independent reader.
test('binary xattr values survive exactly (PAX SCHILY.xattr records)', (t) => {
  const dir = tempDir(t);
  const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0x0a, 0x3d, 0x20, 0x00]);
  const tar = writeTar(dir, [
    {
      header: { ...base, name: 'f', type: 'file', size: 2, xattrs: [['user.bin', value]] },
      data: Buffer.from('hi'),
    },
  ]);

  const script = [
    'import sys, tarfile',
    'm = tarfile.open(sys.argv[1]).getmember("f")',
    'v = m.pax_headers["SCHILY.xattr.user.bin"]',
    'print(v.encode("utf-8", "surrogateescape").hex(), m.size)',
  ].join('\n');
  const out = run('python3', ['-c', script, tar]).toString().trim();
  assert.equal(out, `${value.toString('hex')} 2`);
});

test('the same header always encodes to the same bytes, with an empty uname and gname', () => {
  const header: TarHeader = {
    ...base,
    name: 'a/b',
    type: 'file',
    xattrs: [['user.a', Buffer.from('1')]],
  };
  const first = encodeHeader(header);
  assert.deepEqual(encodeHeader({ ...header }), first);
  // The main header is the last block; uname (265) and gname (297) are empty.
  const main = first.subarray(first.length - 512);
  assert.equal(
    main.subarray(265, 329).every((b) => b === 0),
    true,
  );
  assert.equal(main.toString('latin1', 257, 265), 'ustar\u000000');
});
