import assert from 'node:assert/strict';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  applyDiff,
  type DiffDir,
  type DirNode,
  emptyTree,
  pruneWhiteouts,
  writeTree,
} from '../../src/build/collapse-tree';
import { tempDir, writeFiles } from '../helpers';

const OPAQUE = new Map([['user.overlay.opaque', Buffer.from('y')]]);
/** A whiteout as some kernels write it: an empty file tagged with this xattr. */
const WHITEOUT = new Map([['user.overlay.whiteout', Buffer.from('')]]);

/** A diff dir with `files` (path -> content) and the xattrs given per path. */
function diff(
  t: TestContext,
  files: Record<string, string>,
  xattrs: Record<string, Map<string, Buffer>> = {},
): DiffDir {
  const dir = tempDir(t, 'nx-stacker-diff-');
  writeFiles(dir, files);
  return { dir, xattrs: new Map(Object.entries(xattrs)) };
}

/** The tree as sorted lines: `path/` (with ` opaque`), `path -> <source content>`, `path wh`. */
function render(tree: DirNode): string[] {
  const lines: string[] = [];
  const visit = (node: DirNode, rel: string) => {
    for (const [name, child] of node.children) {
      const path = rel ? `${rel}/${name}` : name;
      if (child.kind === 'dir') {
        lines.push(`${path}/${child.opaque ? ' opaque' : ''}`);
        visit(child, path);
      } else if (child.kind === 'leaf') {
        lines.push(`${path} -> ${readFileSync(child.source, 'utf8')}`);
      } else {
        lines.push(`${path} wh`);
      }
    }
  };
  visit(tree, '');
  return lines.sort();
}

function stack(diffs: DiffDir[]): DirNode {
  const tree = emptyTree(diffs[0]?.dir ?? '/');
  for (const d of diffs) applyDiff(tree, d, 'stack');
  return tree;
}

test('a later layer replaces files and deletes what earlier layers wrote', async (t) => {
  const tree = stack([
    diff(t, { big: 'big', 'etc/conf': 'one', 'etc/keep': 'keep' }),
    diff(t, { big: '', 'etc/conf': 'two' }, { big: WHITEOUT }),
  ]);
  assert.deepEqual(render(tree), ['big wh', 'etc/', 'etc/conf -> two', 'etc/keep -> keep']);

  await pruneWhiteouts(tree, async () => false);
  assert.deepEqual(render(tree), ['etc/', 'etc/conf -> two', 'etc/keep -> keep']);
});

test('whiteouts that hide something below the collapsed layer are kept', async (t) => {
  const tree = stack([diff(t, { gone: '', 'new': '' }, { gone: WHITEOUT, new: WHITEOUT })]);
  await pruneWhiteouts(tree, async (rel) => rel === 'gone');
  assert.deepEqual(render(tree), ['gone wh']);
});

test('an opaque directory drops what lower layers had in it and stays opaque', async (t) => {
  const tree = stack([
    diff(t, { 'd/old': 'old', 'd/sub/x': 'x' }),
    diff(t, { 'd/new': 'new', 'd/gone': '' }, { d: OPAQUE, 'd/gone': WHITEOUT }),
  ]);
  assert.deepEqual(render(tree), ['d/ opaque', 'd/gone wh', 'd/new -> new']);

  // Below an opaque directory nothing is hidden: no need to ask.
  await pruneWhiteouts(tree, async () => assert.fail('asked about a whiteout under opaque'));
  assert.deepEqual(render(tree), ['d/ opaque', 'd/new -> new']);
});

test('a directory over a deleted path or a file hides everything below it', async (t) => {
  const tree = stack([
    diff(t, { a: '', b: 'file' }, { a: WHITEOUT }),
    diff(t, { 'a/x': 'x', 'b/y': 'y' }),
  ]);
  assert.deepEqual(render(tree), ['a/ opaque', 'a/x -> x', 'b/ opaque', 'b/y -> y']);
});

test('an overlay dir the image puts below removes what it covers from the tree', async (t) => {
  const tree = stack([diff(t, { 'srv/conf': 'chain', 'srv/other': 'chain' })]);
  applyDiff(tree, diff(t, { 'srv/conf': 'import', elsewhere: 'import' }), 'shadow');
  assert.deepEqual(render(tree), ['srv/', 'srv/other -> chain']);
});

test('an overlay dir under an opaque directory of the chain is copied into it', async (t) => {
  const tree = stack([diff(t, { 'srv/chain': 'chain' }, { srv: OPAQUE })]);
  applyDiff(tree, diff(t, { 'srv/conf': 'import' }), 'shadow');
  assert.deepEqual(render(tree), ['srv/ opaque', 'srv/chain -> chain', 'srv/conf -> import']);
});

test('writing the tree hard-links files and copies directory modes', async (t) => {
  const source = diff(t, { 'dir/file': 'content' });
  const tree = stack([source]);
  const target = join(tempDir(t), 'out');
  await writeTree(tree, target);

  const linked = lstatSync(join(target, 'dir/file'));
  assert.equal(linked.ino, lstatSync(join(source.dir, 'dir/file')).ino);
  assert.equal(
    lstatSync(join(target, 'dir')).mode & 0o7777,
    lstatSync(join(source.dir, 'dir')).mode & 0o7777,
  );
});
