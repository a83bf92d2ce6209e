/**
 * Entry names of a layer tar turned into safe relative paths. The tar is untrusted input
 * (a base image from a registry): nothing it names may resolve outside the extraction root.
 */

/** Why an entry name was refused; the caller adds the blob and entry. */
export class UnsafePathError extends Error {}

/**
 * The `/`-separated path of an entry relative to the root, without leading or trailing
 * slashes; '' is the root itself. A leading `/` is dropped (absolute names are read as
 * relative to the layer root, as umoci and GNU tar do); `.` and empty components are dropped;
 * a `..` component or a NUL byte is refused, even where it would stay inside the root:
 * no honest layer contains one.
 */
export function cleanEntryPath(name: string): string {
  if (name.includes('\u0000')) throw new UnsafePathError('name contains a NUL byte');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafePathError('name has a ".." component');
    parts.push(part);
  }
  return parts.join('/');
}

/** The parent of a cleaned path ('' for top-level entries and for the root). */
export function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

/** The last component of a cleaned path. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** Joins a cleaned directory path and a name. */
export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** True when `rel` is `dir` or below it. */
export function isAtOrBelow(rel: string, dir: string): boolean {
  return dir === '' || rel === dir || rel.startsWith(`${dir}/`);
}
