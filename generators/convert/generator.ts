/**
 * `nx g nx-stacker:convert <Dockerfile>`: what `nx-stacker convert` does, through the Nx Tree
 * (so `--dry-run` works and Nx reports what changed). The engine converts; this generator only
 * reads and writes workspace files, reports what was not converted and, by default, writes the
 * substitutions' values into the placeholders as defaults so the Nx plugin can read the file.
 */
import { posix } from 'node:path';
import { formatFiles, logger, type Tree } from '@nx/devkit';
import { type ConvertResult, convertDockerfile, isStackerError } from '@nx-stacker/engine';
import { generatorError } from '../shared/errors';
import type { ConvertGeneratorSchema } from './schema';

/** Where the generator reads and writes, workspace-relative. */
interface ConvertPaths {
  dockerfile: string;
  outputFile: string;
  substituteFile: string;
}

export async function convertGenerator(tree: Tree, options: ConvertGeneratorSchema): Promise<void> {
  const paths = normalisePaths(options);

  // Read and convert; check everything before the tree changes.
  const text = tree.read(paths.dockerfile, 'utf-8');
  if (text === null) {
    throw generatorError(
      `${paths.dockerfile} does not exist`,
      undefined,
      'give the Dockerfile relative to the workspace root, e.g. images/web/Dockerfile',
    );
  }
  const result = convert(text, paths.dockerfile);
  const writes = [{ path: paths.outputFile, text: stackerText(result, options) }];
  if (result.substitutionsYaml) {
    writes.push({ path: paths.substituteFile, text: result.substitutionsYaml });
  }
  if (!options.overwrite) refuseExisting(tree, writes);

  // Report what was not converted, as the CLI does.
  for (const s of result.unconverted) {
    logger.warn(`${paths.dockerfile}:${s.line}: ${s.keyword}: ${s.reason}`);
  }
  for (const w of writes) tree.write(w.path, w.text);
  explain(paths, result, options);

  if (!options.skipFormat) await formatFiles(tree);
}

export default convertGenerator;

/** Workspace-relative POSIX paths, with the defaults beside the Dockerfile. */
function normalisePaths(options: ConvertGeneratorSchema): ConvertPaths {
  const dockerfile = workspacePath(options.dockerfile || 'Dockerfile', 'dockerfile');
  const dir = posix.dirname(dockerfile);
  return {
    dockerfile,
    outputFile: workspacePath(options.outputFile ?? posix.join(dir, 'stacker.yaml'), 'outputFile'),
    substituteFile: workspacePath(
      options.substituteFile ?? posix.join(dir, 'stacker-subs.yaml'),
      'substituteFile',
    ),
  };
}

function workspacePath(raw: string, option: string): string {
  const path = posix.normalize(raw.trim().replace(/\\/g, '/'));
  if (path === '.' || path.endsWith('/')) {
    throw generatorError(`--${option} '${raw}' is a directory`, undefined, 'name a file');
  }
  if (posix.isAbsolute(path) || path === '..' || path.startsWith('../')) {
    throw generatorError(
      `--${option} '${raw}' is outside the workspace`,
      undefined,
      'give a path relative to the workspace root, e.g. images/web/Dockerfile',
    );
  }
  return path;
}

/** The engine's conversion; its located errors keep their `file:line` and hint. */
function convert(text: string, dockerfile: string): ConvertResult {
  try {
    return convertDockerfile(text, dockerfile);
  } catch (err) {
    if (isStackerError(err)) throw new Error(err.format());
    throw err;
  }
}

/**
 * The stacker file, with `${{KEY}}` turned into `${{KEY:value}}` for each substitution when
 * `inlineDefaults` is on (the default). A given substitution still beats the default, so the
 * substitute file keeps working; a value with `}` or a line break cannot be a default.
 */
function stackerText(result: ConvertResult, options: ConvertGeneratorSchema): string {
  if (options.inlineDefaults === false) return result.stackerYaml;
  let text = result.stackerYaml;
  for (const [key, value] of result.substitutions) {
    if (/[}\r\n]/.test(value)) continue;
    text = text.split(`\${{${key}}}`).join(`\${{${key}:${value}}}`);
  }
  return text;
}

/** Refuses to replace files that exist, before anything is written. */
function refuseExisting(tree: Tree, writes: { path: string }[]): void {
  const existing = writes.filter((w) => tree.exists(w.path)).map((w) => w.path);
  if (existing.length === 0) return;
  throw generatorError(
    `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}`,
    undefined,
    'pass --overwrite to replace, or choose another --outputFile / --substituteFile',
  );
}

/** Says what to do with the result. */
function explain(paths: ConvertPaths, result: ConvertResult, options: ConvertGeneratorSchema) {
  if (result.substitutionsYaml) {
    const where =
      options.inlineDefaults === false
        ? `build with --substitute-file ${paths.substituteFile}, or set them in the ` +
          "plugin's `substitutions` option in nx.json"
        : 'their values are also the defaults in the stacker file';
    const keys = result.substitutions.map(([k]) => k).join(', ');
    logger.info(`nx-stacker: substitutions ${keys} written to ${paths.substituteFile}; ${where}`);
  }
  if (posix.dirname(paths.outputFile) !== posix.dirname(paths.dockerfile)) {
    logger.warn(
      `nx-stacker: relative paths in ${paths.outputFile} (COPY sources) resolve against ` +
        `${posix.dirname(paths.outputFile)}, not against the Dockerfile's directory`,
    );
  }
  logger.info(`nx-stacker: review ${paths.outputFile}: the conversion is best effort`);
}
