import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { umociUnpack } from '../../engine/test/helpers';
import { cli, rootSkip, snapshotsIn, writeLayeredProject } from './helpers';

/** Every path below `dir` with its type, mode and content or link target. */
function describeTree(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel))
    .sort()
    .flatMap((name) => {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) return [`${path}/ ${mode}`, ...describeTree(dir, path)];
      if (st.isSymbolicLink()) return [`${path} -> ${readlinkSync(join(dir, path))}`];
      return [`${path} ${mode} ${readFileSync(join(dir, path), 'utf8').trim()}`];
    });
}

describe('nx-stacker grab', { skip: rootSkip() }, () => {
  let dir = '';
  let out = '';
  const dirs = () => [
    '--roots-dir',
    '../roots',
    '--oci-dir',
    '../oci',
    '--stacker-dir',
    '../.stacker',
  ];
  const grab = (...args: string[]) => cli([...dirs(), 'grab', ...args], out);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-stacker-grab-'));
    out = join(dir, 'out');
    await writeLayeredProject(dir);
    const r = cli(['build'], dir);
    assert.equal(r.status, 0, r.stderr);
    mkdirSync(out);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('copies a file into the current directory with its mode', () => {
    const r = grab('app:/hello.txt');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'hello.txt'), 'utf8'), 'hello from the host\n');
    assert.equal(lstatSync(join(out, 'hello.txt')).mode & 0o777, 0o640);
    assert.match(r.stderr, /copied app:\/hello\.txt to .*out\/hello\.txt/);
  });

  test('a directory comes out as the merged layers show it, as umoci unpacks it', (t) => {
    const r = grab('app:/data');
    assert.equal(r.status, 0, r.stderr);
    const unpacked = umociUnpack(t, join(dir, 'oci'), 'app');
    assert.deepEqual(describeTree(join(out, 'data')), describeTree(join(unpacked, 'data')));
    assert.deepEqual(describeTree(join(out, 'data')), [
      'keep 644 keep',
      'link -> /hello.txt',
      'old/ 755',
      'old/new 644 new',
    ]);
  });

  test('symlinks in the path, and a final one, are followed inside the layer', () => {
    const viaDir = grab('app:/datalink/keep');
    assert.equal(viaDir.status, 0, viaDir.stderr);
    assert.equal(readFileSync(join(out, 'keep'), 'utf8'), 'keep\n');
    const viaLink = grab('app:/data/link');
    assert.equal(viaLink.status, 0, viaLink.stderr);
    assert.equal(readFileSync(join(out, 'link'), 'utf8'), 'hello from the host\n');
  });

  test('a file deleted by an upper layer is not there', () => {
    const r = grab('app:/bin/vi');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: layer 'app'.*\/bin\/vi: no such file or directory/);
  });

  test('a build_only layer can be grabbed from', () => {
    const r = grab('tools:/tools');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'tools'), 'utf8'), 'tools\n');
  });

  test('nothing is left in the roots dir', () => {
    assert.deepEqual(snapshotsIn(join(dir, 'roots')), []);
  });

  test('a layer that was never built is an error naming the layers that were', () => {
    const r = grab('nope:/etc/passwd');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /layer nope has not been built/);
    assert.match(r.stderr, /built layers: app, base, tools/);
  });

  test("an argument without ':' is stacker's invalid grab argument; none is a usage error", () => {
    const bad = grab('app');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /error: invalid grab argument: app/);
    const none = grab();
    assert.equal(none.status, 2);
    assert.match(none.stderr, /nx-stacker grab <tag>:<path>/);
  });
});
