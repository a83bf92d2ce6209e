import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StackerError } from '../errors';

/** `recursive-build`'s default `--stacker-file-pattern`. */
export const DEFAULT_STACKER_FILE_PATTERN = '\\/stacker.yaml$';

/**
 * The stacker files `recursive-build` builds (spec 2.1): every regular file under
 * `searchDir` whose absolute path matches the regular expression `pattern`, in lexical walk
 * order. Symlinks are neither followed nor matched. Unlike stacker, the dirs in `skipDirs`
 * (the stacker, roots and OCI dirs) are not entered: they hold staged imports and extracted
 * images, whose stacker.yaml files are copies, not projects. Fails with a StackerError when
 * the pattern does not compile or the search dir does not exist.
 */
export function findStackerFiles(opts: {
  searchDir: string;
  pattern?: string;
  skipDirs?: string[];
}): string[] {
  const pattern = opts.pattern ?? DEFAULT_STACKER_FILE_PATTERN;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (err) {
    throw new StackerError(
      `invalid --stacker-file-pattern ${pattern}: ${(err as Error).message}`,
      {},
      `the default is ${DEFAULT_STACKER_FILE_PATTERN}`,
    );
  }

  const root = resolve(opts.searchDir);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new StackerError(
      `--search-dir ${opts.searchDir} is not a directory`,
      {},
      'give an existing directory (default: the current one)',
    );
  }

  const skip = new Set((opts.skipDirs ?? []).map((d) => resolve(d)));
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      throw new StackerError(
        `couldn't read ${dir} while searching for stacker files`,
        {},
        undefined,
        {
          cause: err,
        },
      );
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !skip.has(path)) walk(path);
      else if (entry.isFile() && regex.test(path)) found.push(path);
    }
  };
  walk(root);
  return found;
}
