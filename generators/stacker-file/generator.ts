/**
 * `nx g nx-stacker:stacker-file` (alias `image`): writes `<directory>/stacker.yaml` with one
 * layer, or appends the layer to the stacker.yaml already there. The plugin then infers the
 * directory as a project and the layer as a task; no project.json is written.
 */
import { posix } from 'node:path';
import { formatFiles, generateFiles, logger, type Tree } from '@nx/devkit';
import { generatorError } from '../shared/errors';
import { templatesDir } from '../shared/plugin';
import { appendLayer, readFileFacts } from './document';
import { buildLayer, type FileFacts, type NewLayer } from './layer';
import type { StackerFileGeneratorSchema } from './schema';

const FILE_NAME = 'stacker.yaml';

export async function stackerFileGenerator(
  tree: Tree,
  options: StackerFileGeneratorSchema,
): Promise<void> {
  const directory = normaliseDirectory(options.directory);
  const file = directory === '.' ? FILE_NAME : `${directory}/${FILE_NAME}`;

  // Validate everything before the tree changes.
  const existing = tree.exists(file) ? (tree.read(file, 'utf-8') ?? '') : undefined;
  const facts: FileFacts =
    existing === undefined ? { file, keys: [] } : readFileFacts(existing, file);
  const layer = buildLayer({ ...options, directory }, facts);
  warnAboutLayer(tree, directory, layer);

  // A new file starts from the template's header comment; the layer is appended either way.
  if (existing === undefined) {
    generateFiles(tree, templatesDir('stacker-file'), directory, {
      directory,
      place: directory === '.' ? 'the workspace root' : directory,
      tmpl: '',
    });
  }
  const before = tree.read(file, 'utf-8') ?? '';
  const result = appendLayer(before, file, layer);
  if (!result.changed) {
    logger.info(`nx-stacker: ${file} already has layer '${layer.name}' as asked; unchanged`);
    return;
  }
  tree.write(file, result.text);

  if (!options.skipFormat) await formatFiles(tree);
}

export default stackerFileGenerator;

/** A workspace-relative POSIX directory ('.' for the root); refuses paths leaving it. */
function normaliseDirectory(directory: string | undefined): string {
  const raw = (directory ?? '').trim().replace(/\\/g, '/');
  if (raw === '') {
    throw generatorError('no directory given', undefined, 'pass --directory=<path>');
  }
  const normal = posix.normalize(raw).replace(/\/+$/, '') || '.';
  if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
    throw generatorError(
      `directory '${directory}' is outside the workspace`,
      undefined,
      'give a path relative to the workspace root, e.g. images/web',
    );
  }
  return normal;
}

/** Problems that do not stop the generator but would stop the first build. */
function warnAboutLayer(tree: Tree, directory: string, layer: NewLayer): void {
  const { body, name } = layer;
  if (body.from.type === 'scratch' && body.run !== undefined) {
    logger.warn(
      `nx-stacker: layer '${name}' starts from scratch, which has no shell: its run script ` +
        'fails unless an import provides /bin/sh',
    );
  }
  for (const path of body.imports ?? []) {
    if (path.includes('://') || posix.isAbsolute(path)) continue;
    if (!tree.exists(posix.join(directory, path))) {
      logger.warn(
        `nx-stacker: import '${path}' of layer '${name}' does not exist yet in ${directory}; ` +
          'create it before building',
      );
    }
  }
}
