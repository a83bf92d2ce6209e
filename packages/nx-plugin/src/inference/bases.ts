/**
 * The local things a layer is made from, found in its parsed definition: the OCI layout or
 * tarball it starts from and the files and directories it imports. Each is placed relative
 * to the workspace and, when it lies in another project, attributed to that project; inputs,
 * task dependencies and project edges are all derived from this one description.
 */
import { statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { Layer } from '../engine';
import type { ProjectRef } from '../workspace/projects';

/** A local path a layer reads. */
export interface LocalSource {
  /** Absolute path. */
  path: string;
  /** Relative to the workspace root (posix), or undefined when outside the workspace. */
  rel?: string;
  /** What the path is on disk now; `missing` when it does not exist (yet). */
  kind: 'file' | 'dir' | 'missing';
  /** The other project holding the path, when there is one. */
  owner?: ProjectRef;
}

/** What a layer starts from when that is a local OCI layout or tarball. */
export interface LocalBase extends LocalSource {
  type: 'oci' | 'tar';
}

/** Finds owners of paths: another project (by its files on disk) or none. */
export type OwnerOf = (path: string) => ProjectRef | undefined;

/** The layer's local base, if it has one (`oci` layout dir or `tar` file, not a url). */
export function localBase(
  layer: Layer,
  workspaceRoot: string,
  ownerOf: OwnerOf,
): LocalBase | undefined {
  const { type, url } = layer.from;
  if ((type !== 'oci' && type !== 'tar') || !url || url.includes('://')) return undefined;
  // An oci url is `<layout dir>:<tag>`, the tag being everything after the first colon.
  const path =
    type === 'oci' ? url.slice(0, url.indexOf(':') < 0 ? undefined : url.indexOf(':')) : url;
  return { type, ...localSource(path, workspaceRoot, ownerOf) };
}

/**
 * What the layer reads from the host: its local imports (files and directories; urls are not
 * local), its `overlay_dirs` sources and its hashed binds (`hash: true`).
 */
export function localImports(layer: Layer, workspaceRoot: string, ownerOf: OwnerOf): LocalSource[] {
  const paths = [
    ...layer.imports.map((imp) => imp.path).filter((path) => !path.includes('://')),
    ...layer.overlayDirs.map((dir) => dir.source),
    ...layer.binds.filter((bind) => bind.hash).map((bind) => bind.source),
  ];
  return paths.map((path) => localSource(path.replace(/\/+$/, '') || '/', workspaceRoot, ownerOf));
}

/**
 * Whether Nx can cache the layer's task: not when a bind's content is untracked (no `hash:
 * true`) or lies outside the workspace, where Nx hashes no files.
 */
export function bindsCacheable(layer: Layer, workspaceRoot: string): boolean {
  return layer.binds.every((bind) => bind.hash && insideWorkspace(bind.source, workspaceRoot));
}

function insideWorkspace(path: string, workspaceRoot: string): boolean {
  const rel = relative(workspaceRoot, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

function localSource(path: string, workspaceRoot: string, ownerOf: OwnerOf): LocalSource {
  const inside = insideWorkspace(path, workspaceRoot);
  return {
    path,
    rel: inside ? relative(workspaceRoot, path).split(sep).join('/') : undefined,
    kind: kindOf(path),
    owner: inside ? ownerOf(path) : undefined,
  };
}

function kindOf(path: string): LocalSource['kind'] {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}
