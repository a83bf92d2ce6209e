/**
 * Where the plugin and its executor keep things in a workspace. Inference and the executor
 * must agree on every one of these paths, so they are computed here only.
 *
 *   .nx-stacker/roots                         roots dir shared by every project (extracted
 *                                             layers are content-addressed and extracted
 *                                             atomically; per-layer upper dirs are locked)
 *   .nx-stacker/projects/<key>/{stacker,oci}  one project's stacker dir and OCI dir
 *   dist/stacker/<root>/layers/<layer>        a layer task's output: the engine's export
 *   dist/stacker/<root>/oci                   the build target's output: the file's image
 *
 * Both top-level dirs are meant to be gitignored (the init generator adds them).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { escapeLayerName } from '../engine';

/** The workspace dir holding the engine's state for Nx builds. */
export const STATE_DIR = '.nx-stacker';

/** The workspace dir holding what Nx caches and restores. */
export const OUTPUT_DIR = 'dist/stacker';

/** The file a layer task writes beside the engine's export for its dependents' hashes. */
export const LAYER_KEY_FILE = 'layer.key';

/** The engine's three dirs for builds of the project at `projectRoot`, absolute. */
export function engineDirs(
  workspaceRoot: string,
  projectRoot: string,
): { stackerDir: string; ociDir: string; rootsDir: string } {
  const project = join(workspaceRoot, STATE_DIR, 'projects', projectKey(projectRoot));
  return {
    stackerDir: join(project, 'stacker'),
    ociDir: join(project, 'oci'),
    rootsDir: join(workspaceRoot, STATE_DIR, 'roots'),
  };
}

/**
 * A project root as one path segment: nested roots (`images`, `images/web`) must not nest
 * their state dirs, and the workspace root itself needs a name.
 */
function projectKey(projectRoot: string): string {
  return projectRoot === '.' || projectRoot === '' ? '%2E' : encodeURIComponent(projectRoot);
}

/**
 * The output dir of a project, relative to the workspace root (posix separators, as Nx
 * writes paths). A project at the workspace root gets `@root`, so that its `layers` and `oci`
 * dirs cannot collide with those of a project rooted at `layers` or `oci`.
 */
export function outputRoot(projectRoot: string): string {
  const root = projectRoot === '.' || projectRoot === '' ? '@root' : projectRoot;
  return posix.join(OUTPUT_DIR, root);
}

/** Where layer exports of a project live, relative to the workspace root. */
export function layersDir(projectRoot: string): string {
  return posix.join(outputRoot(projectRoot), 'layers');
}

/**
 * One layer task's output dir, relative to the workspace root. Layer names may contain `/`
 * (they are OCI tag names), which is escaped so that no layer's output nests in another's.
 */
export function layerOutput(projectRoot: string, layer: string): string {
  return posix.join(layersDir(projectRoot), escapeLayerName(layer));
}

/** The assembled OCI layout of a project's stacker file, relative to the workspace root. */
export function imageOutput(projectRoot: string): string {
  return posix.join(outputRoot(projectRoot), 'oci');
}

/**
 * Creates the state dir with a `.gitignore` ignoring everything in it, so that neither git
 * nor Nx's file walker (which follows .gitignore files) ever reads the extracted root
 * filesystems kept there, whether or not the workspace's own .gitignore lists the dir.
 */
export function prepareStateDir(workspaceRoot: string): void {
  const dir = join(workspaceRoot, STATE_DIR);
  const ignore = join(dir, '.gitignore');
  if (existsSync(ignore)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(ignore, '# written by nx-stacker: engine state, never committed\n*\n');
}
