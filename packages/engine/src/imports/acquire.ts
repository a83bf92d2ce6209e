import type { SourceImage } from '../bases/resolve';
import { type Location, StackerError } from '../errors';
import type { Logger } from '../log';
import type { Import, Layer } from '../parse/types';
import type { Roots } from '../storage/roots';
import { acquireHttp } from './acquire-http';
import { acquireStacker } from './acquire-stacker';
import { importName } from './placement';

/** How an import's `path` says where its content comes from. */
export type ImportScheme = 'local' | 'http' | 'stacker' | 'unknown';

/** The layers a `stacker://` import may read from: those built earlier in this build. */
export interface LayerSources {
  /** The image of a layer built (or reused) earlier in this build, by name. */
  image(name: string): SourceImage | undefined;
  /** Where their layers are (or get) extracted. */
  roots: Roots;
}

/** What an acquirer needs; remote acquirers cache what they fetch under `stackerDir`. */
export interface AcquireContext {
  imp: Import;
  /** The layer being built; absent when only a digest is wanted. */
  layer?: Layer;
  stackerDir?: string;
  where: Location;
  log: Logger;
  /** Read for auth files and CA certificates; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Needed by `stacker://` imports. */
  sources?: LayerSources;
  /** Use only what earlier builds downloaded, never the network (publish's cache check). */
  offline?: boolean;
  signal?: AbortSignal;
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
 * shares the same placement (dest, renaming, trailing slashes), hash check, hashing and
 * caching: a remote acquirer only has to fetch into a cache and say where it put the content.
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

const acquirers: Record<ImportScheme, Acquirer> = {
  local: acquireLocal,
  http: acquireHttp,
  stacker: acquireStacker,
  unknown: async ({ imp, where }) => {
    throw new StackerError(
      `unsupported url scheme ${imp.path}`,
      where,
      'imports are local paths, http(s):// urls or stacker://<layer>/<path>',
    );
  },
};

// Remote acquisitions of one build, by layer and path: the cache key is computed (which
// downloads or copies the import) before the layer is staged, and staging must see the same
// content without fetching it again. Keyed by the Layer object, which lives for one build.
const acquiredInBuild = new WeakMap<Layer, Map<string, Promise<Acquired>>>();

/** What a build knows that later acquisitions for the same layer need (see `acquireImport`). */
export type BuildSide = Pick<AcquireContext, 'env' | 'sources' | 'offline' | 'signal'>;

const buildSides = new WeakMap<Layer, BuildSide>();

/**
 * Remembers what the build knows for later acquisitions of `layer`'s imports that lack it:
 * the cache key is computed with everything, staging's caller knows only the layer and the
 * stacker dir. Kept as long as the Layer object (one build).
 */
export function noteBuildSide(layer: Layer, { env, sources, offline, signal }: BuildSide): void {
  if (env || sources || offline || signal) buildSides.set(layer, { env, sources, offline, signal });
}

/**
 * Runs the acquirer for the import's scheme, completing the context with what
 * `noteBuildSide` recorded for the layer. A remote import is fetched once per build of a
 * layer: later calls get the first call's result.
 */
export function acquireImport(given: AcquireContext): Promise<Acquired> {
  const scheme = importScheme({ path: given.imp.path });
  const { layer, imp } = given;
  if (scheme === 'local' || scheme === 'unknown' || !layer) return acquirers[scheme](given);

  const known = buildSides.get(layer) ?? {};
  const context: AcquireContext = {
    ...given,
    env: given.env ?? known.env,
    sources: given.sources ?? known.sources,
    offline: given.offline ?? known.offline,
    signal: given.signal ?? known.signal,
  };

  let seen = acquiredInBuild.get(layer);
  if (!seen) {
    seen = new Map();
    acquiredInBuild.set(layer, seen);
  }
  const earlier = seen.get(imp.path);
  if (earlier) return earlier;
  const acquired = acquirers[scheme](context);
  seen.set(imp.path, acquired);
  acquired.catch(() => seen.delete(imp.path));
  return acquired;
}
