/**
 * Hostile base layers (the tar is untrusted input from a registry): each case is refused
 * with an error naming the blob and the entry, or contained inside the extraction root.
 * Complements test/storage/extract.test.ts with crafted headers (PAX and GNU overrides,
 * lying sizes, bad checksums), corrupt gzip streams, and a seeded fuzz run that checks the
 * one property that matters after any archive: nothing outside the root changed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { StackerError } from '../../src/errors';
import { extractLayer } from '../../src/storage/extract';
import { tempDir } from '../pack/helpers';
import { blobOptions, namesIn } from '../storage/extract-helpers';
import { gnuLong, type RawEntry, rawTar } from './raw-tar';

/** A root with a victim file outside the extraction dirs, and a way to extract into it. */
function arena(t: TestContext) {
  const root = tempDir(t, 'nx-stacker-hostile-');
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'original');
  return { root, outside, victim: join(outside, 'victim') };
}

/** Extracts the gzipped `tar`; resolves to the error, or undefined on success. */
async function extract(root: string, tar: Buffer) {
  const opts = blobOptions(root, gzipSync(tar));
  const err = await extractLayer(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { opts, err };
}

const refused: { name: string; entries: (outside: string) => RawEntry[]; error: RegExp }[] = [
  {
    name: 'a ".." hidden in the middle of a name',
    entries: () => [{ name: 'a/b/../../../evil', data: 'x' }],
    error: /name has a "\.\." component/,
  },
  {
    name: 'an absolute name climbing out with ".."',
    entries: () => [{ name: '/../../evil', data: 'x' }],
    error: /name has a "\.\." component/,
  },
  {
    name: 'a PAX path overriding a harmless name with "../"',
    entries: () => [{ name: 'innocent', pax: { path: '../evil' }, data: 'x' }],
    error: /at entry "\.\.\/evil": name has a "\.\." component/,
  },
  {
    name: 'a PAX linkpath sending a hard link outside',
    entries: () => [{ name: 'hl', type: '1', linkname: 'ok', pax: { linkpath: '../../x' } }],
    error: /name has a "\.\." component/,
  },
  {
    name: 'a GNU long name with ".."',
    entries: () => [
      gnuLong('L', `${'d/'.repeat(60)}../../../../../../../../../../../../evil`),
      { name: 'short', data: 'x' },
    ],
    error: /name has a "\.\." component/,
  },
  {
    name: 'an absolute symlink, then an absolute name through it',
    entries: (outside) => [
      { name: '/escape', type: '2', linkname: outside },
      { name: '/escape/victim', data: 'overwritten' },
    ],
    error: /\/escape is a symlink, refusing to go through it/,
  },
  {
    name: 'a directory replaced by a symlink, then a file below it',
    entries: (outside) => [
      { name: 'etc/', type: '5' },
      { name: 'etc', type: '2', linkname: outside },
      { name: 'etc/victim', data: 'overwritten' },
    ],
    error: /\/etc is a symlink/,
  },
  {
    name: 'a hard link through a symlinked directory',
    entries: (outside) => [
      { name: 'o', type: '2', linkname: outside },
      { name: 'hl', type: '1', linkname: 'o/victim' },
    ],
    error: /hard link target \/o\/victim: \/o is a symlink/,
  },
  {
    name: 'a hard link to an absolute path outside',
    entries: (outside) => [{ name: 'hl', type: '1', linkname: join(outside, 'victim') }],
    error: /hard link target .* does not exist/,
  },
  {
    name: 'a hard link to the root directory',
    entries: () => [{ name: 'hl', type: '1', linkname: '/' }],
    error: /hard link to the root directory/,
  },
  {
    name: 'a NUL byte in a PAX path',
    entries: () => [{ name: 'x', pax: { path: 'a\u0000/../../evil' }, data: 'x' }],
    error: /NUL byte|"\.\."/,
  },
  {
    name: 'a header with a wrong checksum',
    entries: () => [{ name: 'f', data: 'x', checksumDelta: 7 }],
    error: /checksum mismatch/,
  },
  {
    name: 'a size field that is not a number',
    entries: () => [{ name: 'f', data: 'x', pax: { size: 'lots' } }],
    error: /invalid PAX size "lots"/,
  },
  {
    name: 'a negative PAX size',
    entries: () => [{ name: 'f', data: 'x', pax: { size: '-512' } }],
    error: /invalid PAX size "-512"/,
  },
  {
    name: 'a size larger than the data that follows',
    entries: () => [{ name: 'f', data: 'x', size: 1 << 20 }],
    error: /unexpected end of archive/,
  },
  {
    name: 'a size smaller than the data (the rest read as a header)',
    entries: () => [
      { name: 'f', data: Buffer.alloc(2048, 0x41), size: 10 },
      { name: 'g', data: 'g' },
    ],
    error: /invalid tar header/,
  },
  {
    name: 'a sparse entry',
    entries: () => [{ name: 'sparse', type: 'S', data: 'x' }],
    error: /unsupported tar entry type 'S'/,
  },
  {
    name: 'a huge PAX header',
    entries: () => [{ name: 'f', pax: { comment: 'x'.repeat(17 << 20) } }],
    error: /tar metadata entry of \d+ bytes/,
  },
  {
    name: 'a whiteout with no name',
    entries: () => [{ name: 'dir/.wh.', data: '' }],
    error: /whiteout without a name/,
  },
];

for (const { name, entries, error } of refused) {
  test(`a layer with ${name} is refused and nothing is written anywhere`, async (t) => {
    const { root, outside, victim } = arena(t);
    const { opts, err } = await extract(root, rawTar(entries(outside)));
    assert.ok(err instanceof StackerError, `expected a StackerError, got ${String(err)}`);
    assert.match(err.message, new RegExp(`couldn't extract layer ${opts.digest}`));
    assert.match(err.message, error);
    assert.deepEqual(namesIn(opts.parent), [], 'no temp dir and no target');
    assert.deepEqual(namesIn(outside), ['victim']);
    assert.equal(readFileSync(victim, 'utf8'), 'original');
    assert.equal(lstatSync(victim).nlink, 1, 'no hard link to the victim');
  });
}

test('a gzip stream with a corrupt CRC is refused', async (t) => {
  const { root } = arena(t);
  const gz = gzipSync(rawTar([{ name: 'f', data: 'content' }]));
  gz[gz.length - 6] = (gz[gz.length - 6] ?? 0) ^ 0xff;
  const opts = blobOptions(root, gz);
  await assert.rejects(extractLayer(opts), /couldn't extract layer .*incorrect data check/);
  assert.deepEqual(namesIn(opts.parent), []);
});

test('a blob that is not gzip nor tar at all is refused', async (t) => {
  const { root } = arena(t);
  const opts = blobOptions(root, Buffer.from('<html>not a layer</html>\n'.repeat(40)));
  await assert.rejects(extractLayer(opts), /couldn't extract layer .*invalid tar header/);
  assert.deepEqual(namesIn(opts.parent), []);
});

test('absolute names and absolute symlink targets stay inside the root', async (t) => {
  const { root, outside, victim } = arena(t);
  const { opts, err } = await extract(
    root,
    rawTar([
      { name: '/etc/', type: '5' },
      { name: '/etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n' },
      { name: '/etc/victim', type: '2', linkname: victim },
      { name: '//usr///bin/./tool', data: 'tool' },
    ]),
  );
  assert.equal(err, undefined);
  assert.equal(
    readFileSync(join(opts.target, 'etc/passwd'), 'utf8'),
    'root:x:0:0::/root:/bin/sh\n',
  );
  assert.equal(readFileSync(join(opts.target, 'usr/bin/tool'), 'utf8'), 'tool');
  // A symlink is data: kept as written, never followed.
  assert.equal(readlinkSync(join(opts.target, 'etc/victim')), victim);
  assert.deepEqual(namesIn(outside), ['victim']);
  assert.equal(readFileSync(victim, 'utf8'), 'original');
});

test('a file entry replacing a symlink to outside replaces the link, not its target', async (t) => {
  const { root, victim } = arena(t);
  const { opts, err } = await extract(
    root,
    rawTar([
      { name: 'f', type: '2', linkname: victim },
      { name: 'f', data: 'mine' },
    ]),
  );
  assert.equal(err, undefined);
  assert.ok(lstatSync(join(opts.target, 'f')).isFile());
  assert.equal(readFileSync(join(opts.target, 'f'), 'utf8'), 'mine');
  assert.equal(readFileSync(victim, 'utf8'), 'original');
});

/** A PRNG for the fuzz run (mulberry32): the same seed gives the same archives. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Names, mode, size, link count and content hash of everything under `dir`. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(dir, rel, name);
      const st = lstatSync(path);
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : '';
      out.push(`${rel}/${name} ${st.mode.toString(8)} ${st.size} ${st.nlink} ${hash}`);
      if (st.isDirectory()) walk(join(rel, name));
    }
  };
  walk('');
  return out;
}

test('seeded fuzz: 300 hostile archives never touch anything outside the root', async (t) => {
  const { root, outside, victim } = arena(t);
  mkdirSync(join(outside, 'sub'));
  writeFileSync(join(outside, 'sub', 'deep'), 'deep');
  const before = snapshot(outside);
  const random = seeded(6);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const names = [
    'a',
    'a/b',
    'a/b/c',
    'l',
    'l/x',
    'l/sub/deep',
    '/abs',
    '/l/victim',
    './a/./b',
    'a//b/',
    'a/.wh.b',
    '.wh.l',
    'a/.wh..wh..opq',
    '../x',
    'a/../../x',
    'victim',
    'sub',
  ] as const;
  const targets = [outside, victim, '../outside', '../../outside/victim', '/', '.', '..', 'a', 'l'];
  const types = ['0', '0', '1', '2', '2', '5', '6'] as const;

  for (let round = 0; round < 300; round++) {
    const entries: RawEntry[] = [];
    for (let i = 1 + Math.floor(random() * 8); i > 0; i--) {
      const type = pick(types);
      const linkname = type === '1' ? pick([...names, ...targets]) : pick(targets);
      entries.push({ name: pick(names), type, linkname, data: type === '0' ? 'payload' : '' });
    }
    const dir = join(root, `round-${round}`);
    mkdirSync(dir);
    const { opts, err } = await extract(dir, rawTar(entries));
    const listed = entries.map((e) => [e.type, e.name, e.linkname]);
    const what = `round ${round}: ${JSON.stringify(listed)}`;
    if (err !== undefined) {
      assert.ok(err instanceof StackerError, `${what}: ${String(err)}`);
      assert.deepEqual(namesIn(opts.parent), [], `${what}: leftovers`);
    }
    assert.deepEqual(snapshot(outside), before, `${what}: outside changed`);
    assert.deepEqual(
      namesIn(dir).filter((n) => !n.startsWith('blob-')),
      ['roots'],
      what,
    );
  }
});
