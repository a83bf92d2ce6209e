import { type Logger, silentLogger } from '../log';
import type { Import, Layer } from '../parse/types';
import { acquireImport } from './acquire';
import { digestOf } from './digest';
import { importLocation } from './location';
import { inspectSource, pinnableHash } from './source';
import type { ImportDigest } from './types';

/**
 * The cache digest of one import without staging it: the same value `stageImports` reports,
 * for cache lookups and Nx inputs. The import comes first and alone, as callers mostly have
 * nothing else; `layer` only makes errors point at the stacker file. Does not check `hash:`.
 */
export async function importDigest(
  imp: Import,
  { layer, stackerDir, log = silentLogger }: ImportDigestOptions = {},
): Promise<ImportDigest> {
  const where = importLocation({ layer, imp });
  const acquired = await acquireImport({ imp, layer, stackerDir, where, log });
  return digestOf({ imp, source: inspectSource({ path: acquired.path, where }) });
}

export interface ImportDigestOptions {
  layer?: Layer;
  /** Where remote acquirers cache downloads. */
  stackerDir?: string;
  log?: Logger;
}

/**
 * The value an import's `hash:` must hold for the local `path`: the content sha256 of a file
 * (or of the file a symlink points to), the tree hash of a directory (see `hashTree`).
 */
export function hashImport({ path }: { path: string }): string {
  const where = importLocation({ imp: { path } });
  return pinnableHash({ source: inspectSource({ path, where }), where });
}
