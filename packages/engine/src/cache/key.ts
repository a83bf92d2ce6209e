import { isAbsolute, relative } from 'node:path';
import type { Layer } from '../parse/types';
import { hashValue } from '../util/canonical-json';

/**
 * Bumped whenever what we build from the same inputs changes (tar layout, config edits,
 * annotations): every cached layer is then rebuilt once. 2: a layer built on build_only
 * layers gets their changes collapsed into its own layer (build/collapse.ts), and build_only
 * results record their published ancestor. 3: with SOURCE_DATE_EPOCH, imports are staged with
 * it as mtime, and run steps get umask 022 whatever the builder's.
 */
export const CACHE_VERSION = 3;

/** The inputs of one layer, each hashed, so that a miss can say which one changed. */
export interface KeyParts {
  /** The layer's definition after substitution, without positions, paths made relative. */
  definition: string;
  /** What the layer starts from: parent's key, base manifest digest, tarball digest. */
  base: string;
  /** Content digest of every import, in the order written (with or without `dest`). */
  imports: { path: string; digest: string }[];
  /**
   * Content digest of every `overlay_dirs` source, in the order written; absent when the
   * layer has none, which keeps the keys of all other layers as they were.
   */
  overlayDirs?: { source: string; digest: string }[];
  /** Content digest of every bind with `hash: true`, in order; absent when there is none. */
  binds?: { source: string; digest: string }[];
  /** SOURCE_DATE_EPOCH in effect, or null. */
  sourceDateEpoch: number | null;
  /** Build-wide settings that change the output: layer types, annotation namespace. */
  settings: string;
}

/**
 * The key a layer's result is stored under: a hash of all its inputs. Imports and overlay
 * dirs count by digest only, in order: their paths are absolute (kept in the parts for miss reasons), and
 * the definition already holds them relative to the stacker file, so the key is the same
 * wherever the workspace is checked out (a clone can restore another checkout's layers).
 */
export function layerKey(parts: KeyParts): string {
  return hashValue({
    v: CACHE_VERSION,
    ...parts,
    imports: parts.imports.map((i) => i.digest),
    overlayDirs: parts.overlayDirs?.map((o) => o.digest),
    binds: parts.binds?.map((b) => b.digest),
  });
}

/**
 * Hash of a layer's definition that does not depend on where the workspace is checked out:
 * local paths are made relative to the stacker file's directory, positions are dropped.
 */
export function definitionHash(layer: Layer, fileDir: string): string {
  const local = (p: string) => (isAbsolute(p) ? relative(fileDir, p) || '.' : p);
  const keepSlash = (orig: string, p: string) => (orig.endsWith('/') ? `${p}/` : p);
  return hashValue({
    name: layer.name,
    from: {
      type: layer.from.type,
      url: layer.from.url === undefined ? undefined : local(layer.from.url),
      tag: layer.from.tag,
      insecure: layer.from.insecure || undefined,
    },
    imports: layer.imports.map((i) => ({
      path: i.path.includes('://') ? i.path : keepSlash(i.path, local(i.path)),
      hash: i.hash,
      dest: i.dest,
      mode: i.mode,
      uid: i.uid,
      gid: i.gid,
    })),
    legacyImport: layer.legacyImport || undefined,
    overlayDirs: layer.overlayDirs.map((o) => ({ source: local(o.source), dest: o.dest })),
    run: layer.run,
    cmd: layer.cmd,
    entrypoint: layer.entrypoint,
    fullCommand: layer.fullCommand,
    buildEnvPassthrough: layer.buildEnvPassthrough,
    buildEnv: layer.buildEnv,
    environment: layer.environment,
    volumes: layer.volumes,
    labels: layer.labels,
    generateLabels: layer.generateLabels,
    workingDir: layer.workingDir,
    runtimeUser: layer.runtimeUser,
    buildOnly: layer.buildOnly,
    binds: layer.binds.map((b) => ({ source: local(b.source), dest: b.dest, hash: b.hash })),
    annotations: layer.annotations,
    os: layer.os,
    arch: layer.arch,
  });
}

/** Why a layer with `now` cannot reuse the result built from `before`, in a few words. */
export function missReason(before: KeyParts | undefined, now: KeyParts): string {
  if (!before) return 'not built before';
  if (before.definition !== now.definition) return 'layer definition changed';
  if (before.base !== now.base) return 'base layer changed';
  if (before.sourceDateEpoch !== now.sourceDateEpoch) return 'SOURCE_DATE_EPOCH changed';
  if (before.settings !== now.settings) return 'build settings changed';
  const old = new Map(before.imports.map((i) => [i.path, i.digest]));
  for (const imp of now.imports) {
    const digest = old.get(imp.path);
    if (digest === undefined) return `new import ${imp.path}`;
    if (digest !== imp.digest) return `import ${imp.path} changed`;
  }
  if (before.imports.length !== now.imports.length) return 'an import was removed';
  const oldDirs = new Map(before.overlayDirs?.map((o) => [o.source, o.digest]));
  for (const dir of now.overlayDirs ?? []) {
    const digest = oldDirs.get(dir.source);
    if (digest === undefined) return `new overlay_dir ${dir.source}`;
    if (digest !== dir.digest) return `content of overlay_dir ${dir.source} changed`;
  }
  const oldBinds = new Map(before.binds?.map((b) => [b.source, b.digest]));
  for (const bind of now.binds ?? []) {
    const digest = oldBinds.get(bind.source);
    if (digest === undefined) return `new hashed bind ${bind.source}`;
    if (digest !== bind.digest) return `content of bind ${bind.source} changed`;
  }
  return 'inputs changed';
}
