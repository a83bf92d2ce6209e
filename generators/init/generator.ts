/**
 * `nx g nx-stacker:init` (run by `nx add nx-stacker`): registers the plugin in nx.json, adds
 * the package to devDependencies and ignores the paths the plugin writes. Every step checks
 * before it writes, so running it again changes nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  addDependenciesToPackageJson,
  formatFiles,
  type GeneratorCallback,
  logger,
  type NxJsonConfiguration,
  readJson,
  readNxJson,
  runTasksInSerial,
  type Tree,
  updateNxJson,
  writeJson,
} from '@nx/devkit';
import { IGNORED_PATHS, PLUGIN_NAME, pluginVersion } from '../shared/plugin';
import { addGitignoreEntries } from './gitignore';
import type { InitGeneratorSchema } from './schema';

export async function initGenerator(
  tree: Tree,
  options: InitGeneratorSchema,
): Promise<GeneratorCallback> {
  const tasks: GeneratorCallback[] = [];

  if (registerPlugin(tree)) logger.info(`nx-stacker: registered the plugin in nx.json`);

  const ignored = addGitignoreEntries(tree, IGNORED_PATHS);
  if (ignored.length > 0) logger.info(`nx-stacker: added ${ignored.join(', ')} to .gitignore`);

  if (!options.skipPackageJson) tasks.push(addPluginDependency(tree, options));

  if (!options.skipFormat) await formatFiles(tree);
  return runTasksInSerial(...tasks);
}

export default initGenerator;

/**
 * Adds `{ "plugin": "nx-stacker", "options": {} }` to nx.json's plugins unless the plugin is
 * there already, in string or object form, or through a subpath such as `nx-stacker/plugin`.
 * Creates nx.json when the workspace has none. Returns whether nx.json changed.
 */
export function registerPlugin(tree: Tree): boolean {
  const nxJson: NxJsonConfiguration = readNxJson(tree) ?? {};
  const plugins = nxJson.plugins ?? [];
  const present = plugins.some((entry) => {
    const name = typeof entry === 'string' ? entry : entry.plugin;
    return name === PLUGIN_NAME || name.startsWith(`${PLUGIN_NAME}/`);
  });
  if (present) return false;

  nxJson.plugins = [...plugins, { plugin: PLUGIN_NAME, options: {} }];
  // updateNxJson only edits an existing nx.json.
  if (tree.exists('nx.json')) updateNxJson(tree, nxJson);
  else writeJson(tree, 'nx.json', nxJson);
  return true;
}

/**
 * Adds nx-stacker at this package's version to devDependencies when neither dependencies nor
 * devDependencies name it. An existing entry (a range, `file:` or a link) is never touched:
 * `nx add` has just installed exactly what the user asked for.
 */
function addPluginDependency(tree: Tree, options: InitGeneratorSchema): GeneratorCallback {
  if (!tree.exists('package.json')) return () => {};
  const manifest = readJson<{
    name?: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  }>(tree, 'package.json');
  if (manifest.dependencies?.[PLUGIN_NAME] || manifest.devDependencies?.[PLUGIN_NAME]) {
    return () => {};
  }
  if (manifest.name === PLUGIN_NAME || installedUnlisted(tree.root)) {
    // A linked or copied install (or this repository itself): npm would look the name up in
    // the registry, where nx-stacker may not be, and fail after nx.json was changed.
    logger.info(`nx-stacker: installed but not in package.json; not adding it there`);
    return () => {};
  }
  return addDependenciesToPackageJson(
    tree,
    {},
    { [PLUGIN_NAME]: pluginVersion() },
    undefined,
    options.keepExistingVersions ?? true,
  );
}

/**
 * Whether the workspace has nx-stacker in node_modules although its package.json does not
 * list it (a link). Not require.resolve: from this file, inside the package, it always finds
 * the package itself.
 */
function installedUnlisted(root: string): boolean {
  return existsSync(join(root, 'node_modules', PLUGIN_NAME, 'package.json'));
}
