/**
 * The tree behind a collapsed layer: several diffs in overlayfs on-disk format (extracted
 * layers, upper dirs), stacked bottom-up into the one diff that has the same effect, planned
 * in memory and then written out with hard links. See build/collapse.ts for where it is used.
 *
 * On disk (oci/layer-format.ts) a whiteout is a 0:0 character device (or a zero-size file
 * tagged `*.overlay.whiteout`), an opaque directory carries `*.overlay.opaque=y`, and a
 * directory over a lower non-directory hides everything below it, like an opaque one.
 */
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  type Stats,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';
import { applyFsOps, type FsOp } from '../native/fsops';
import type { XattrMap } from '../native/xattrs';
import { layerXattrName, OVERLAY_OPAQUE_XATTR } from '../oci/layer-format';
import { errnoCode } from '../util/fs';

/** A directory of the collapsed tree. */
export interface DirNode {
  kind: 'dir';
  /** The host directory whose owner, mode, times and xattrs this directory takes. */
  source: string;
  /** Its xattrs worth keeping (overlayfs bookkeeping left out, opaque marker apart). */
  xattrs: [string, Buffer][];
  /** Hides the same directory of every layer below the collapsed one. */
  opaque: boolean;
  children: Map<string, TreeNode>;
}

/** A path deleted by the collapsed layer. */
export interface WhiteoutNode {
  kind: 'whiteout';
}

/** Any other file: the host entry it is hard-linked from. */
export interface LeafNode {
  kind: 'leaf';
  source: string;
}

export type TreeNode = DirNode | WhiteoutNode | LeafNode;

/** One diff to stack: its dir and the xattrs of its entries (`readXattrs`, '.' = root). */
export interface DiffDir {
  dir: string;
  xattrs: XattrMap;
}

/**
 * How a diff is applied. `stack`: it lies above what the tree holds, as overlayfs stacks it.
 * `shadow`: it lies above the tree in the container but BELOW the collapsed layer in the image
 * (the layer's overlay-dir layers): what it hides is removed from the tree instead, and only
 * where the tree's own directory would hide it does its content get copied in.
 */
export type ApplyMode = 'stack' | 'shadow';

/** An empty tree whose root takes its metadata from `rootSource`. */
export function emptyTree(rootSource: string): DirNode {
  return { kind: 'dir', source: rootSource, xattrs: [], opaque: false, children: new Map() };
}

/** Applies the diff `diff` to `tree`; see ApplyMode. */
export function applyDiff(tree: DirNode, diff: DiffDir, mode: ApplyMode): void {
  if (mode === 'stack') {
    tree.source = diff.dir;
    tree.xattrs = keptXattrs(diff.xattrs.get('.'));
  }
  applyChildren(tree, diff, '', mode);
}

function applyChildren(node: DirNode, diff: DiffDir, rel: string, mode: ApplyMode): void {
  const abs = rel === '' ? diff.dir : join(diff.dir, rel);
  for (const name of readdirSync(abs)) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const entry = { abs: join(abs, name), rel: childRel, stat: lstatSync(join(abs, name)) };
    if (mode === 'stack') stackEntry(node, name, entry, diff);
    else shadowEntry(node, name, entry, diff);
  }
}

interface DiffEntry {
  abs: string;
  rel: string;
  stat: Stats;
}

/** One entry of a diff stacked above the tree. */
function stackEntry(parent: DirNode, name: string, e: DiffEntry, diff: DiffDir): void {
  const xattrs = diff.xattrs.get(e.rel);
  if (isWhiteout(e.stat, xattrs)) {
    parent.children.set(name, { kind: 'whiteout' });
    return;
  }
  if (!e.stat.isDirectory()) {
    parent.children.set(name, { kind: 'leaf', source: e.abs });
    return;
  }

  // A directory merges with a directory below it unless marked opaque; over a whiteout or a
  // non-directory it hides everything below, which the collapsed layer must say with a marker.
  const below = parent.children.get(name);
  let node: DirNode;
  if (below?.kind === 'dir' && !isOpaque(xattrs)) {
    node = below;
    node.source = e.abs;
    node.xattrs = keptXattrs(xattrs);
  } else {
    node = {
      kind: 'dir',
      source: e.abs,
      xattrs: keptXattrs(xattrs),
      opaque: below !== undefined || isOpaque(xattrs),
      children: new Map(),
    };
    parent.children.set(name, node);
  }
  applyChildren(node, diff, e.rel, 'stack');
}

/**
 * One entry of a diff that the container saw above the tree but the image puts below it.
 * The image must show what the container saw: the diff's entry where it has one.
 */
function shadowEntry(parent: DirNode, name: string, e: DiffEntry, diff: DiffDir): void {
  const below = parent.children.get(name);
  if (!below) return;
  const xattrs = diff.xattrs.get(e.rel);

  // A non-directory, a whiteout or an opaque directory hides the tree's entry entirely: drop
  // it, the diff's own layer provides the path.
  if (!e.stat.isDirectory() || isWhiteout(e.stat, xattrs) || isOpaque(xattrs)) {
    parent.children.delete(name);
    return;
  }

  // The tree's directory takes this one's metadata (it was on top in the container). When the
  // tree's directory is opaque it would hide this one's content in the image: copy it in.
  if (below.kind === 'dir') {
    below.source = e.abs;
    below.xattrs = keptXattrs(xattrs);
    applyChildren(below, diff, e.rel, below.opaque ? 'stack' : 'shadow');
    return;
  }

  // Over the tree's whiteout or non-directory, this directory showed alone in the container;
  // in the image it would merge with the layers below. An opaque copy keeps it alone.
  const node: DirNode = {
    kind: 'dir',
    source: e.abs,
    xattrs: keptXattrs(xattrs),
    opaque: true,
    children: new Map(),
  };
  parent.children.set(name, node);
  applyChildren(node, diff, e.rel, 'stack');
}

/**
 * Drops the whiteouts that hide nothing: those under an opaque directory of the tree, and
 * those for which `visibleBelow(rel)` says the layers under the collapsed one show nothing.
 */
export async function pruneWhiteouts(
  tree: DirNode,
  visibleBelow: (rel: string) => Promise<boolean>,
): Promise<void> {
  const visit = async (node: DirNode, rel: string, hidden: boolean): Promise<void> => {
    for (const [name, child] of node.children) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (child.kind === 'dir') {
        await visit(child, childRel, hidden || child.opaque);
      } else if (child.kind === 'whiteout' && (hidden || !(await visibleBelow(childRel)))) {
        node.children.delete(name);
      }
    }
  };
  await visit(tree, '', false);
}

/**
 * Writes `tree` into `target`, a fresh directory on the same file system as every source:
 * directories are created, other files hard-linked from their source (sharing owner, mode,
 * times and xattrs), whiteouts made as 0:0 devices; then directory xattrs, opaque markers,
 * owners, modes and times are set, deepest first. Sources are never modified.
 */
export async function writeTree(tree: DirNode, target: string): Promise<void> {
  const dirs: [string, DirNode][] = [];
  const whiteouts: FsOp[] = [];

  // Create directories, link files, collect what Node cannot do.
  const visit = (node: DirNode, rel: string) => {
    dirs.push([rel, node]);
    mkdirSync(rel === '' ? target : join(target, rel), { mode: 0o700 });
    for (const [name, child] of node.children) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (child.kind === 'dir') visit(child, childRel);
      else if (child.kind === 'leaf') link(child.source, join(target, childRel), childRel);
      else whiteouts.push({ op: 'mknod', path: childRel, mode: 0, kind: 'c', major: 0, minor: 0 });
    }
  };
  visit(tree, '');
  await applyFsOps(target, whiteouts);

  // Directory xattrs and opaque markers (never on the root: overlayfs ignores it there).
  const xattrOps: FsOp[] = dirs.flatMap(([rel, node]) => {
    const list = [...node.xattrs];
    if (node.opaque && rel !== '') list.push([OVERLAY_OPAQUE_XATTR, Buffer.from('y')]);
    return list.map(([name, value]): FsOp => ({ op: 'setxattr', path: rel || '.', name, value }));
  });
  await applyFsOps(target, xattrOps);

  // Owners, modes and times, deepest first, so creating entries no longer changes them.
  for (const [rel, node] of dirs.reverse()) {
    const path = rel === '' ? target : join(target, rel);
    const stat = lstatSync(node.source);
    chownSync(path, stat.uid, stat.gid);
    chmodSync(path, stat.mode & 0o7777);
    utimesSync(path, stat.atimeMs / 1000, stat.mtimeMs / 1000);
  }
}

function link(source: string, target: string, rel: string): void {
  try {
    linkSync(source, target);
  } catch (err) {
    const code = errnoCode(err);
    const hint =
      code === 'EXDEV'
        ? 'the roots dir must be one file system: do not mount anything below it'
        : undefined;
    throw new StackerError(
      `couldn't link /${rel} into the collapsed layer: ${(err as Error).message}`,
      { step: 'pack' },
      hint,
      { cause: err },
    );
  }
}

/** A 0:0 character device, or a zero-size file tagged as a whiteout (overlayfs >= 6.7). */
function isWhiteout(stat: Stats, xattrs: Map<string, Buffer> | undefined): boolean {
  if (stat.isCharacterDevice()) return stat.rdev === 0;
  if (!stat.isFile() || stat.size !== 0 || !xattrs) return false;
  return xattrs.has('user.overlay.whiteout') || xattrs.has('trusted.overlay.whiteout');
}

function isOpaque(xattrs: Map<string, Buffer> | undefined): boolean {
  const value = xattrs?.get('user.overlay.opaque') ?? xattrs?.get('trusted.overlay.opaque');
  return value?.toString() === 'y';
}

/**
 * The xattrs a directory of the collapsed layer keeps: what a packed layer would keep, minus
 * every overlayfs name (the opaque marker is written from DirNode.opaque).
 */
function keptXattrs(xattrs: Map<string, Buffer> | undefined): [string, Buffer][] {
  return [...(xattrs ?? [])].filter(
    ([name]) => !name.includes('.overlay.') && layerXattrName(name) !== undefined,
  );
}
