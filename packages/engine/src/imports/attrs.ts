import type { Import } from '../parse/types';
import type { CopyAttrs } from './types';

/**
 * The mode and owner an import's staged copy must have. `mode` keeps only its 0o777 bits (a
 * YAML `0755` is octal; a bare `755` is decimal and means 0o1363, of which 0o363 applies) and
 * applies to regular files only: directories keep the source's bits, since a file mode such as
 * 0644 would make them untraversable, and symlinks have no mode. Without `uid`/`gid` (or with
 * -1) the copy belongs to whoever runs the build (root, normally), as in stacker, rather than
 * to the source's owner: the developer's uid must not leak into images.
 */
export function copyAttrsFor(imp: Import, sourceDateEpoch?: number): CopyAttrs {
  return {
    fileMode: imp.mode === undefined ? undefined : imp.mode & 0o777,
    uid: ownerId(imp.uid, process.geteuid?.() ?? 0),
    gid: ownerId(imp.gid, process.getegid?.() ?? 0),
    mtime: sourceDateEpoch,
  };
}

function ownerId(id: number | undefined, fallback: number): number {
  return id === undefined || id < 0 ? fallback : id;
}
