import type { Import } from '../parse/types';
import { hashText } from './hash';
import type { ImportSource } from './source';
import type { ImportDigest } from './types';

const DIGEST_HEADER = 'nx-stacker import v1';

/**
 * The cache digest of one import, from its inspected source. Unlike stacker, every import
 * has one, `dest` imports included, so changing a `dest` import invalidates the layer. It is
 * the sha256 of the text
 *
 *     nx-stacker import v1\n
 *     kind <file|symlink|dir>\nmode <octal|->\nuid <n|->\ngid <n|->\ncontent <c>\n
 *
 * where `mode` is the mode the staged file gets (files), the import's `mode` (dirs; the
 * source modes are in the tree hash) or `-`; `uid`/`gid` are the import's (`-`: the builder's);
 * and `<c>` is the content sha256 (files), the tree hash of `hashTree` (dirs) or the JSON link
 * target (symlinks). Neither `path` nor `dest` is hashed: they are fields of the result.
 */
export function digestOf({ imp, source }: { imp: Import; source: ImportSource }): ImportDigest {
  return digestFromLines({
    imp,
    kind: source.kind,
    mode: modeLine({ imp, source }),
    content: contentLine(source),
  });
}

/**
 * The digest an http(s) import with `hash:` gets once downloaded, computed without
 * downloading it: downloads are regular files created 0644 whose content is checked against
 * the hash, so the hash says everything. This is what lets a layer whose remote imports are
 * pinned be found in the cache without the network.
 */
export function pinnedDownloadDigest({ imp, hash }: { imp: Import; hash: string }): ImportDigest {
  const mode = imp.mode === undefined ? 0o644 : imp.mode & 0o777;
  return digestFromLines({ imp, kind: 'file', mode: octal(mode), content: hash.toLowerCase() });
}

function digestFromLines(args: {
  imp: Import;
  kind: ImportSource['kind'];
  mode: string;
  content: string;
}): ImportDigest {
  const { imp } = args;
  const lines = [
    DIGEST_HEADER,
    `kind ${args.kind}`,
    `mode ${args.mode}`,
    `uid ${ownerLine(imp.uid)}`,
    `gid ${ownerLine(imp.gid)}`,
    `content ${args.content}`,
  ];
  const digest = `sha256:${hashText(`${lines.join('\n')}\n`)}`;
  const kind = args.kind === 'dir' ? 'dir' : 'file';
  return imp.dest === undefined
    ? { path: imp.path, kind, digest }
    : { path: imp.path, dest: imp.dest, kind, digest };
}

function modeLine({ imp, source }: { imp: Import; source: ImportSource }): string {
  const requested = imp.mode === undefined ? undefined : imp.mode & 0o777;
  if (source.kind === 'symlink') return '-';
  if (source.kind === 'dir') return requested === undefined ? '-' : octal(requested);
  return octal(requested ?? source.stat.mode & 0o7777);
}

function ownerLine(id: number | undefined): string {
  return id === undefined || id < 0 ? '-' : String(id);
}

function contentLine(source: ImportSource): string {
  if (source.kind === 'file') return source.sha256;
  if (source.kind === 'dir') return source.tree.hex;
  return JSON.stringify(source.target);
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
