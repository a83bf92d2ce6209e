import { StackerError } from '../errors';
import { loadExeca } from './execa';
import { runnerExecutable } from './runner';
import { runnerFailure } from './runner-messages';

/** xattrs of a tree: relpath ('.' for the root) -> xattr name -> value. */
export type XattrMap = Map<string, Map<string, Buffer>>;

/**
 * Reads every xattr of every entry under `root` (not following symlinks, not crossing mount
 * points); entries without xattrs are absent from the map. Paths are decoded as UTF-8, as
 * Node's fs does by default. With `stripOverlay`, overlayfs bookkeeping (any name containing
 * '.overlay.' except '*.overlay.opaque') is first REMOVED from disk and not returned, so it
 * can never reach an image. `root` should be a plain tree such as an upper dir, not a
 * mounted overlay.
 */
export async function readXattrs(root: string, opts: { stripOverlay: boolean }): Promise<XattrMap> {
  const args = ['xattrs', root, ...(opts.stripOverlay ? ['--strip-overlay'] : [])];
  const { execa } = await loadExeca();
  const result = await execa(runnerExecutable(), args, {
    encoding: 'buffer',
    stdin: 'ignore',
    reject: false,
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (result.exitCode !== 0) {
    const lines = Buffer.from(result.stderr).toString('utf8').split('\n');
    throw (
      runnerFailure({ exitCode: result.exitCode, stderrLines: lines }) ??
      new StackerError(`reading xattrs under ${root} failed: ${result.message}`)
    );
  }
  return parseXattrList(Buffer.from(result.stdout));
}

/** Parses `<relpath>\0<name>\0<value hex>\0` records. */
export function parseXattrList(data: Buffer): XattrMap {
  const map: XattrMap = new Map();
  let pos = 0;
  const next = (): string => {
    const end = data.indexOf(0, pos);
    if (end < 0) throw new StackerError('the runner printed a truncated xattr list');
    const field = data.toString('utf8', pos, end);
    pos = end + 1;
    return field;
  };

  while (pos < data.length) {
    const path = next();
    const name = next();
    const value = Buffer.from(next(), 'hex');
    let entry = map.get(path);
    if (!entry) {
      entry = new Map();
      map.set(path, entry);
    }
    entry.set(name, value);
  }
  return map;
}
