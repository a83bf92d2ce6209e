/**
 * The set of stacker files of a build (spec 2.1): the files asked for and, recursively, their
 * prerequisites, each loaded once. Ordering the files is not done here (see plan/).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StackerError } from '../errors';
import { loadStackerFile } from './stackerfile';
import type { ParseOptions, SourcePos, StackerFile } from './types';

/** Who listed a prerequisite, for errors about it. */
interface ListedBy {
  file: string;
  pos?: SourcePos;
}

/**
 * Loads `paths` and their prerequisites, keyed by absolute path, in the order first reached
 * (depth first, each file before its prerequisites). A file reached twice is loaded once, so
 * prerequisite cycles terminate here (stacker recurses forever); reporting the cycle is the
 * ordering step's job. Then checks that layer names are unique across all loaded files.
 */
export function loadStackerFiles(paths: string[], opts: ParseOptions): Map<string, StackerFile> {
  const files = new Map<string, StackerFile>();
  const pending: { path: string; listedBy?: ListedBy }[] = paths
    .map((path) => ({ path: path.includes('://') ? path : resolve(path) }))
    .reverse();

  while (pending.length > 0) {
    const { path, listedBy } = pending.pop()!;
    if (files.has(path)) continue;
    if (listedBy) checkPrerequisite(path, listedBy);

    const file = loadStackerFile(path, opts);
    files.set(path, file);

    // Push in reverse so that prerequisites load in the order they are listed.
    for (let i = file.prerequisites.length - 1; i >= 0; i--) {
      pending.push({
        path: file.prerequisites[i]!,
        listedBy: { file: file.path, pos: file.prerequisitesPos?.[i] },
      });
    }
  }

  checkUniqueLayerNames(files);
  return files;
}

/** A prerequisite must be a local file that exists; the error points at the listing line. */
function checkPrerequisite(path: string, listedBy: ListedBy): void {
  const where = { file: listedBy.file, ...listedBy.pos, directive: 'config' };
  if (path.includes('://')) {
    throw new StackerError(
      `prerequisite ${path} is a url; only local stacker files are supported`,
      where,
      'download the file and list the local copy',
    );
  }
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    throw new StackerError(
      `couldn't find prerequisite ${path}`,
      where,
      `prerequisites are relative to the directory of the file that lists them`,
    );
  }
}

/** `duplicate layer name: both <a> and <b> have <n>`, located at the second definition. */
function checkUniqueLayerNames(files: Map<string, StackerFile>): void {
  const seen = new Map<string, { file: string; pos: SourcePos }>();
  for (const file of files.values()) {
    for (const layer of file.layers) {
      const first = seen.get(layer.name);
      if (!first) {
        seen.set(layer.name, { file: layer.file, pos: layer.pos });
        continue;
      }
      const at = (f: string, p: SourcePos) => `${f}:${p.line}:${p.column}`;
      throw new StackerError(
        `duplicate layer name: both ${at(first.file, first.pos)} and ` +
          `${at(layer.file, layer.pos)} have ${layer.name}`,
        { file: layer.file, ...layer.pos, layer: layer.name },
        'layer names must be unique across all stacker files of a build, prerequisites included',
      );
    }
  }
}
