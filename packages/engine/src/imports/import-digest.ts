import { type Logger, silentLogger } from '../log';
import type { Import, Layer } from '../parse/types';
import { acquireImport, importScheme, type LayerSources, noteBuildSide } from './acquire';
import { digestOf, pinnedDownloadDigest } from './digest';
import { importLocation } from './location';
import { inspectSource, pinnableHash } from './source';
import type { ImportDigest } from './types';

/**
 * The cache digest of one import without staging it: the same value `stageImports` reports,
 * for cache lookups and Nx inputs. The import comes first and alone, as callers mostly have
 * nothing else; `layer` only makes errors point at the stacker file (and lets staging reuse
 * what this downloaded or copied). Does not check `hash:`, except that an http(s) import
 * with a `hash:` is not downloaded at all: its digest follows from the hash (see
 * `pinnedDownloadDigest`), and staging checks the download against it.
 */
export async function importDigest(
  imp: Import,
  opts: ImportDigestOptions = {},
): Promise<ImportDigest> {
  const { layer, log = silentLogger } = opts;
  if (layer) noteBuildSide(layer, opts);
  const scheme = importScheme(imp);
  if (scheme === 'http' && imp.hash) return pinnedDownloadDigest({ imp, hash: imp.hash });

  const where = importLocation({ layer, imp });
  const acquired = await acquireImport({ ...opts, imp, layer, where, log });
  return digestOf({ imp, source: inspectSource({ path: acquired.path, where }) });
}

export interface ImportDigestOptions {
  layer?: Layer;
  /** Where remote acquirers cache downloads and copies. */
  stackerDir?: string;
  log?: Logger;
  /** Read for auth files and CA certificates; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The layers built so far; needed by `stacker://` imports. */
  sources?: LayerSources;
  /** Use only earlier downloads, never the network. */
  offline?: boolean;
  signal?: AbortSignal;
}

/**
 * The value an import's `hash:` must hold for the local `path`: the content sha256 of a file
 * (or of the file a symlink points to), the tree hash of a directory (see `hashTree`).
 */
export function hashImport({ path }: { path: string }): string {
  const where = importLocation({ imp: { path } });
  return pinnableHash({ source: inspectSource({ path, where }), where });
}
