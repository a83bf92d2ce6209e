/**
 * Where content placed at a path of the image really lands once the base image's symlinks are
 * taken into account. A layer that holds a real directory `lib/` replaces a base's symlink
 * `/lib -> usr/lib` with that directory, which breaks usr-merged images (Debian, Fedora): an
 * overlay dir or `dest` import aimed at `/lib/modules` must be laid out at `/usr/lib/modules`
 * instead (spec 3.4.4 step 1, "patching" the dest).
 */
import { readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { type MergedDir, UnionView } from '../grab/union';
import type { Logger } from '../log';
import type { Import } from '../parse/types';
import type { Acquired } from './acquire';
import { placeImport } from './placement';

/** Symlinks followed in one path before giving up (and keeping the path as written). */
const MAX_SYMLINKS = 40;

/**
 * Resolves an absolute image path through the base image: every existing directory on the
 * way is replaced by where its symlinks lead, the part that does not exist yet is kept as
 * written. With `followFinal`, a last component that is a symlink to a directory is followed
 * too (content merged into a directory); without it the last component is kept (a file
 * replaces a symlink). Returns a normalised absolute path.
 */
export type DestResolver = (path: string, opts: { followFinal: boolean }) => Promise<string>;

/**
 * A resolver over the base image's extracted layers (`baseLayers`, bottom-first, as
 * `Roots.ensureExtracted` returns them). Unlike stacker, which consults the top-most base
 * layer only, every layer counts, with overlayfs's whiteout and opaque-dir rules (see
 * `UnionView`). Without base layers (scratch, tar bases) paths are only normalised.
 */
export function baseDestResolver({ baseLayers }: { baseLayers: string[] }): DestResolver {
  if (baseLayers.length === 0) return async (path) => posix.resolve('/', path);
  const view = new UnionView(baseLayers.toReversed());
  return (path, opts) => resolveInView(view, path, opts.followFinal);
}

async function resolveInView(view: UnionView, path: string, followFinal: boolean) {
  const written = posix.resolve('/', path);
  return (await walk({ view, written, followFinal, links: 0 })).path;
}

/** Where `written` leads in the view, and what is there. */
async function walk(args: {
  view: UnionView;
  written: string;
  followFinal: boolean;
  links: number;
}): Promise<{ path: string; kind: 'dir' | 'other' | 'missing' }> {
  const { view, written, followFinal } = args;
  let links = args.links;
  const chain: MergedDir[] = [view.root];
  const pending = components(written);

  while (pending.length > 0) {
    const name = pending.shift() as string;
    const cwd = chain[chain.length - 1] as MergedDir;
    if (name === '..') {
      if (chain.length > 1) chain.pop();
      continue;
    }
    const entry = await view.lookup(cwd, name);
    const here = posix.join('/', cwd.rel, name);
    // Nothing there yet: the rest of the path is created by the new layer.
    if (!entry) return { path: posix.join(here, ...pending), kind: 'missing' };

    const last = pending.length === 0;
    if (entry.kind === 'symlink' && (!last || followFinal)) {
      if (++links > MAX_SYMLINKS) return { path: written, kind: 'other' };
      const target = readlinkSync(entry.hostPath);
      if (last) {
        // A final link is followed only when it leads to a directory (or to nothing yet).
        const to = posix.resolve('/', cwd.rel, target);
        const found = await walk({ view, written: to, followFinal: true, links });
        return found.kind === 'other' ? { path: here, kind: 'other' } : found;
      }
      if (target.startsWith('/')) chain.splice(1);
      pending.unshift(...components(target));
      continue;
    }
    // Something else in the way is replaced by the new layer: keep the path as it is.
    if (entry.kind !== 'dir') return { path: last ? here : written, kind: 'other' };
    chain.push(entry);
  }
  return { path: posix.join('/', (chain[chain.length - 1] as MergedDir).rel), kind: 'dir' };
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The `dest` import `imp` with its `dest` rewritten so that it lands where `resolveDest`
 * says, or `imp` itself when nothing changes (logged when it does). `isDir` is as for
 * `placeImport`. A directory's own path is followed through a final symlink (its content
 * merges into the directory the link points to); a file's is not, so the file replaces the
 * link. Imports merged into `/` are left alone.
 */
export async function followBaseSymlinks(args: {
  imp: Import;
  acquired: Acquired;
  isDir: boolean;
  resolveDest: DestResolver;
  log: Logger;
}): Promise<Import> {
  const { imp, acquired, isDir } = args;
  const { rel } = placeImport({ imp, name: acquired.name, isDir });
  if (rel === '') return imp;
  const placed = `/${rel}`;
  const resolved = await args.resolveDest(placed, { followFinal: isDir });
  if (resolved === placed || resolved === '/') return imp;

  args.log.info(`import ${imp.path}: ${placed} is a symlink in the base, using ${resolved}`);
  // Without a trailing slash, `placeImport` puts a file and a directory alike at `dest`.
  return { ...imp, dest: resolved };
}
