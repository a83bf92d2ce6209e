/**
 * A read-only merged view of extracted OCI layers, resolved the way overlayfs resolves its
 * lower dirs, without mounting anything: a whiteout (0:0 character device) hides what lies
 * below it, a directory marked opaque (`user.overlay.opaque=y`) hides the same directory in
 * lower layers, and a non-directory hides everything below it. The root directory is never
 * opaque (overlayfs ignores the marker there too).
 *
 * Every host path is built one checked component at a time, from directories known to be
 * real directories of their layer, so a symlink in a layer is never followed on the host:
 * links are resolved inside the view, with an absolute target starting again at the view's
 * root, as they would be inside a container.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';
import { readXattrs } from '../native/xattrs';
import { errnoCode } from '../util/fs';

/** A directory of the view: the layers (indexes, top-first) whose copies merge into it. */
export interface MergedDir {
  kind: 'dir';
  /** Path below the root, without leading slash; '' is the root. */
  rel: string;
  layers: number[];
}

/** Anything else: the one copy that is visible. */
export interface LayerEntry {
  kind: 'file' | 'symlink' | 'other';
  rel: string;
  /** The entry on the host, inside its layer's dir. */
  hostPath: string;
  stats: Stats;
}

export type UnionEntry = MergedDir | LayerEntry;

const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque'];
const MAX_SYMLINKS = 40;

export class UnionView {
  /** Opaque directories per layer, loaded one top-level directory at a time. */
  private readonly opaque = new Map<string, Set<string>>();

  /** `layers` are extracted layer dirs, top-first. */
  constructor(private readonly layers: string[]) {}

  get root(): MergedDir {
    return { kind: 'dir', rel: '', layers: this.layers.map((_, i) => i) };
  }

  /** The host path of the topmost copy of `dir`. */
  hostPath(dir: MergedDir): string {
    const top = dir.layers[0];
    if (top === undefined) throw new StackerError('the image has no layers', { step: 'grab' });
    return join(this.layers[top] as string, dir.rel);
  }

  /** The visible entry `name` of `dir`, or undefined when there is none. */
  async lookup(dir: MergedDir, name: string): Promise<UnionEntry | undefined> {
    const rel = dir.rel ? `${dir.rel}/${name}` : name;
    let merged: MergedDir | undefined;

    for (const i of dir.layers) {
      const hostPath = join(this.layers[i] as string, rel);
      const stats = lstatOrUndefined(hostPath);
      if (!stats) continue;
      if (stats.isCharacterDevice() && stats.rdev === 0) break;
      if (!stats.isDirectory()) {
        if (merged) break;
        return { kind: kindOf(stats), rel, hostPath, stats };
      }
      merged ??= { kind: 'dir', rel, layers: [] };
      merged.layers.push(i);
      if (await this.isOpaque(i, rel)) break;
    }
    return merged;
  }

  /** The visible entries of `dir`, sorted by name. */
  async list(dir: MergedDir): Promise<[string, UnionEntry][]> {
    const names = new Set<string>();
    for (const i of dir.layers) {
      for (const name of readdirSync(join(this.layers[i] as string, dir.rel))) names.add(name);
    }
    const out: [string, UnionEntry][] = [];
    for (const name of [...names].sort()) {
      const entry = await this.lookup(dir, name);
      if (entry) out.push([name, entry]);
    }
    return out;
  }

  /**
   * Resolves an absolute path in the view, following symlinks in every component and, with
   * `followFinal`, in the last one. Throws a StackerError naming `path` when it does not exist.
   */
  async resolve(path: string, followFinal: boolean): Promise<UnionEntry> {
    const chain: MergedDir[] = [this.root];
    const pending = components(path);
    let links = 0;

    while (pending.length > 0) {
      const name = pending.shift() as string;
      const cwd = chain[chain.length - 1] as MergedDir;
      if (name === '..') {
        if (chain.length > 1) chain.pop();
        continue;
      }
      const entry = await this.lookup(cwd, name);
      if (!entry) throw notFound(path, 'no such file or directory');
      const last = pending.length === 0;

      if (entry.kind === 'symlink' && (!last || followFinal)) {
        if (++links > MAX_SYMLINKS) throw notFound(path, 'too many levels of symbolic links');
        const target = readlinkSync(entry.hostPath);
        if (target.startsWith('/')) chain.splice(1);
        pending.unshift(...components(target));
        continue;
      }
      if (last) return entry;
      if (entry.kind !== 'dir') throw notFound(path, `${entry.rel} is not a directory`);
      chain.push(entry);
    }
    return chain[chain.length - 1] as MergedDir;
  }

  /** Whether `rel` (a directory of layer `i`) carries an opaque marker. */
  private async isOpaque(i: number, rel: string): Promise<boolean> {
    const top = rel.split('/')[0] as string;
    const key = `${i}\0${top}`;
    let set = this.opaque.get(key);
    if (!set) {
      set = new Set();
      const xattrs = await readXattrs(join(this.layers[i] as string, top), {
        stripOverlay: false,
      });
      for (const [path, values] of xattrs) {
        if (OPAQUE_XATTRS.some((n) => values.get(n)?.toString() === 'y')) {
          set.add(path === '.' ? top : `${top}/${path}`);
        }
      }
      this.opaque.set(key, set);
    }
    return set.has(rel);
  }
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

function kindOf(stats: Stats): LayerEntry['kind'] {
  if (stats.isFile()) return 'file';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function notFound(path: string, why: string): StackerError {
  return new StackerError(`${path}: ${why}`, { step: 'grab' });
}
