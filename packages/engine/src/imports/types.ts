/**
 * What the imports step hands to the rest of the build: the staging dir the container sees,
 * the trees that become their own OCI layers, and a content digest per import for the cache.
 */

/** Which kind of thing an import brought in; a symlink import counts as a file (as in stacker). */
export type ImportKind = 'file' | 'dir';

/** The content digest of one import, computed from its source, for the build cache. */
export interface ImportDigest {
  /** The import's `path` exactly as written (trailing `/` kept). */
  path: string;
  /** The import's `dest`, when it has one. */
  dest?: string;
  kind: ImportKind;
  /**
   * `sha256:<hex>` over the content and everything that shapes the staged copy (modes, the
   * import's `mode`/`uid`/`gid`), but not over `path` or `dest`: identical content imported
   * from two places has the same digest. The canonical text is built in `digest.ts`.
   */
  digest: string;
}

/** A dir laid out as an image tree (`<dir>/usr/share/x` lands at `/usr/share/x`). */
export interface ImportTree {
  source: string;
}

/** The result of staging one layer's imports. */
export interface StagedImports {
  /**
   * `$SD/imports/<layer>`: the imports without `dest`; the bind source for `/stacker/imports`
   * (legacy `import:` layers: `/stacker`). Always exists, even when the layer imports nothing.
   */
  dir: string;
  /**
   * One tree per import with `dest`, in import order. Each becomes its own OCI layer below the
   * layer's own diff. The trees are rebuilt from scratch on every call.
   */
  overlayDirs: ImportTree[];
  /** One digest per import, in import order, with or without `dest`. */
  digests: ImportDigest[];
}

/** Ownership and mode the staged copy must end up with. */
export interface CopyAttrs {
  /** Permission bits for regular files (0o777 only); undefined keeps the source's bits. */
  fileMode?: number;
  /** Owner of every staged entry. */
  uid: number;
  gid: number;
  /**
   * mtime (seconds) of every staged file and symlink instead of the source's: the
   * SOURCE_DATE_EPOCH. An import's times are not part of a layer's key, so they must not reach
   * its image either (the packer only clamps later times).
   */
  mtime?: number;
}

/** What a copy changed, for the log line. */
export interface CopyStats {
  /** Entries created, replaced or whose mode/owner were fixed. */
  changed: number;
  /** Entries deleted because the source no longer has them. */
  removed: number;
}
