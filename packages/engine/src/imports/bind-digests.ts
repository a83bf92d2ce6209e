/**
 * Hashed binds (`binds: - {source, dest, hash: true}`, our extension of stacker's binds): the
 * content a layer reads through such a bind counts in its cache key, as an import's does, so
 * a layer whose binds are all hashed is reused instead of being rebuilt on every build.
 */
import { existsSync, realpathSync } from 'node:fs';
import { StackerError, wrapError } from '../errors';
import type { Layer } from '../parse/types';
import { hashText } from './hash';
import { entryLocation } from './location';
import { hashTree } from './tree';

const DIGEST_HEADER = 'nx-stacker bind v1';

/** The cache digest of one hashed bind's content, with its source as written. */
export interface BindDigest {
  source: string;
  /**
   * `sha256:<hex>` of `nx-stacker bind v1\ncontent <tree hash>\n`, the tree hash being
   * `hashTree`'s of the source's real path (a file or a whole directory: paths, types, modes,
   * bytes, link targets).
   */
  digest: string;
}

/** True when the layer has a bind whose content nothing tracks: it must be rebuilt each time. */
export function hasUntrackedBinds(layer: Layer): boolean {
  return layer.binds.some((b) => !b.hash);
}

/**
 * The content digest of every hashed bind of `layer`, in order, or undefined when it has none
 * (the keys of all other layers stay as they were). `storage` (the stacker, roots and OCI
 * dirs) is left out of a bound tree that holds it: `binds: [{source: ., hash: true}]` must not
 * hash what the build itself writes. Fails with a StackerError located at the bind when its
 * source is missing or holds something that cannot be hashed.
 */
export function bindDigests(layer: Layer, storage: string[] = []): BindDigest[] | undefined {
  const hashed = layer.binds.filter((b) => b.hash);
  if (hashed.length === 0) return undefined;
  const skip = new Set(storage.filter((dir) => existsSync(dir)).map((dir) => realpathSync(dir)));
  return hashed.map((bind) => {
    const where = entryLocation(layer, 'binds', bind.pos);
    let root: string;
    try {
      root = realpathSync(bind.source);
    } catch (err) {
      throw new StackerError(
        `bind mount source "${bind.source}" does not exist`,
        where,
        "create it, or fix the path (relative paths resolve against the stacker file's directory)",
        { cause: err },
      );
    }
    try {
      const tree = hashTree({ root, skip });
      return {
        source: bind.source,
        digest: `sha256:${hashText(`${DIGEST_HEADER}\ncontent ${tree.hex}\n`)}`,
      };
    } catch (err) {
      throw wrapError(err, `couldn't hash bind ${bind.source}`, where);
    }
  });
}
