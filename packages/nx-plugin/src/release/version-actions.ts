/**
 * Version actions for `nx release` when the projects released are stacker images. Nx loads
 * one for every project it releases, even for `nx release publish` alone, and its default
 * (from @nx/js) reads package.json files, which images do not have.
 *
 * An image has no manifest holding its version, so there is nothing to read or update on
 * disk: the current version comes from git tags (`"currentVersionResolver": "git-tag"`) or
 * from the command line (`nx release 1.2.0`), and the new version reaches the registry as a
 * tag: Nx hands it to the publish step, whose executor publishes every layer under it too.
 *
 * nx.json: `"release": { "version": { "versionActions": "<path of this module>" } }`.
 * Loaded by Nx only, never by the plugin, so `nx` is required here and nowhere else.
 */
import type { Tree } from '@nx/devkit';
import { VersionActions } from 'nx/release';

export default class StackerVersionActions extends VersionActions {
  /** No manifest: Nx then never looks for one on disk. */
  validManifestFilenames = null;

  /** Images keep no version on disk. */
  async readCurrentVersionFromSourceManifest(): Promise<null> {
    return null;
  }

  /**
   * Not read from the registry: an image repository's tags are not an ordered list of
   * releases (`latest`, branch names, ...). Nx then reports that no version was found.
   */
  async readCurrentVersionFromRegistry(): Promise<null> {
    return null;
  }

  /** Images do not pin the versions of the images they are built on. */
  async readCurrentVersionOfDependency(): Promise<{
    currentVersion: null;
    dependencyCollection: null;
  }> {
    return { currentVersion: null, dependencyCollection: null };
  }

  /** Writes nothing; the line returned is shown in `nx release`'s output for the project. */
  async updateProjectVersion(_tree: Tree, newVersion: string): Promise<string[]> {
    return [`✍️  ${newVersion} will be a tag of every image this project publishes`];
  }

  async updateProjectDependencies(): Promise<string[]> {
    return [];
  }
}
