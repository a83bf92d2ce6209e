import { type Location, StackerError } from '../errors';
import type { Import } from '../parse/types';
import { type ImportSource, pinnableHash } from './source';

/**
 * Checks an import's `hash:` against its source, before anything is copied. Files compare
 * their content sha256, as in stacker. Directories compare the canonical tree hash of
 * `hashTree`: stacker ignores `hash:` on directories, we check it and print the actual value
 * so a directory can be pinned by copying it from the error. Does nothing without `hash:`.
 */
export function verifyImportHash({
  imp,
  source,
  where,
}: {
  imp: Import;
  source: ImportSource;
  where: Location;
}): void {
  if (imp.hash === undefined) return;
  const want = imp.hash.toLowerCase();
  const got = pinnableHash({ source, where });
  if (want === got) return;

  const file = where.file ?? 'the stacker file';
  const treeNote =
    source.kind === 'dir'
      ? " (a directory's hash is nx-stacker's tree hash: paths, types, modes, link targets and" +
        ' file contents)'
      : '';
  throw new StackerError(
    `The requested hash of ${imp.path} import is different than the actual hash: ` +
      `${want} != ${got}`,
    where,
    `update the hash in ${file}, or remove it${treeNote}`,
  );
}
