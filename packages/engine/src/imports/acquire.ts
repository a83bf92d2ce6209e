import { type Location, StackerError } from '../errors';
import type { Logger } from '../log';
import type { Import, Layer } from '../parse/types';
import { importName } from './placement';

/** How an import's `path` says where its content comes from. */
export type ImportScheme = 'local' | 'http' | 'stacker' | 'unknown';

/** What an acquirer needs; remote acquirers will cache downloads under `stackerDir`. */
export interface AcquireContext {
  imp: Import;
  /** The layer being built; absent when only a digest is wanted. */
  layer?: Layer;
  stackerDir?: string;
  where: Location;
  log: Logger;
}

/** An import's content, made available as a local path. */
export interface Acquired {
  /** Local file, symlink or dir holding the content; placing and hashing read from here. */
  path: string;
  /** The basename the import is staged under when `dest` does not rename it. */
  name: string;
}

/**
 * Brings one import's content to a local path. One acquirer per scheme, so every scheme
 * shares the same placement (dest, renaming, trailing slashes), hashing and caching: a
 * download acquirer only has to fetch into a cache and return where it put the file.
 */
export type Acquirer = (context: AcquireContext) => Promise<Acquired>;

/** Classifies an import path: no `://` is a local path, as in stacker. */
export function importScheme({ path }: { path: string }): ImportScheme {
  if (!path.includes('://')) return 'local';
  if (/^https?:\/\//i.test(path)) return 'http';
  if (path.startsWith('stacker://')) return 'stacker';
  return 'unknown';
}

// Local paths are used where they are: staging copies from them directly.
const acquireLocal: Acquirer = async ({ imp }) => ({
  path: imp.path,
  name: importName({ path: imp.path }),
});

// Schemes that later work adds; each throws until its acquirer replaces the entry.
function notYet(feature: string): Acquirer {
  return async ({ imp, where }) => {
    throw new StackerError(
      `unsupported url scheme ${imp.path}`,
      where,
      `${feature} are not supported by this version of nx-stacker yet; ` +
        'copy the file into the workspace and import it by path',
    );
  };
}

const acquirers: Record<ImportScheme, Acquirer> = {
  local: acquireLocal,
  // FIXME: http(s) downloads (HEAD checksum, auth, cache in $SD) arrive with remote imports.
  http: notYet('http(s) imports (remote imports)'),
  // FIXME: stacker://<layer>/<path> needs a snapshot and a container; it arrives with
  // layer-to-layer imports.
  stacker: notYet('stacker:// imports (imports from another layer)'),
  unknown: async ({ imp, where }) => {
    throw new StackerError(
      `unsupported url scheme ${imp.path}`,
      where,
      'imports are local paths, http(s):// urls or stacker://<layer>/<path>',
    );
  },
};

/** Runs the acquirer for the import's scheme. */
export function acquireImport(context: AcquireContext): Promise<Acquired> {
  return acquirers[importScheme({ path: context.imp.path })](context);
}
