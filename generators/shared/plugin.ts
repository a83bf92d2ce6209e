/**
 * Facts about the nx-stacker package that the generators share: its name as written in nx.json,
 * the paths the plugin writes in a workspace, and where the package's own files are on disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package name, as a workspace registers it: `{ "plugin": "nx-stacker" }` in nx.json. */
export const PLUGIN_NAME = 'nx-stacker';

/**
 * What the plugin writes in a user's workspace, as .gitignore entries: the engine's state
 * (stacker dir, roots dir) under `.nx-stacker/`, and built OCI layouts under `dist/stacker/`.
 * Must match STATE_DIR and OUTPUT_DIR in packages/nx-plugin/src/workspace/paths.ts.
 */
export const IGNORED_PATHS: readonly string[] = ['.nx-stacker/', 'dist/stacker/'];

/**
 * The `generators/` directory of the package. This file runs either from its TypeScript source
 * (`generators/shared`) or compiled (`generators/dist/shared`); tsc copies neither templates nor
 * schemas, so both look up the one directory that holds `generators.json`.
 */
export function generatorsRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'generators.json'))) {
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `nx-stacker: generators.json not found above ${__dirname}; is the package complete?`,
      );
    }
    dir = parent;
  }
  return dir;
}

/** The `files/` templates of one generator (`generators/<name>/files`). */
export function templatesDir(generator: string): string {
  return join(generatorsRoot(), generator, 'files');
}

/** The version of the installed nx-stacker package, from its package.json. */
export function pluginVersion(): string {
  const manifest = join(generatorsRoot(), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
  if (!version) throw new Error(`nx-stacker: ${manifest} has no version`);
  return version;
}
