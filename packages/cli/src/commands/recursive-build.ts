import { build, DEFAULT_STACKER_FILE_PATTERN, findStackerFiles } from '@nx-stacker/engine';
import { RECURSIVE_BUILD_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';
import { type BuildFlags, buildOptions, engineBuildFlags } from './build';

const { 'stacker-file': _stackerFile, ...commonBuildOptions } = buildOptions;

/** `recursive-build`'s flags: build's, without -f, plus where and what to search. */
export const recursiveBuildOptions = {
  ...commonBuildOptions,
  'stacker-file-pattern': { type: 'string', short: 'p', default: DEFAULT_STACKER_FILE_PATTERN },
  'search-dir': { type: 'string', short: 'd', default: '.' },
} as const;

type Flags = Omit<BuildFlags, 'stacker-file'> & {
  'stacker-file-pattern': string;
  'search-dir': string;
};

/**
 * `nx-stacker recursive-build`: builds every stacker file under --search-dir whose path
 * matches --stacker-file-pattern, as one build (files ordered by their prerequisites). The
 * stacker, roots and OCI dirs are not searched. Finding no file is a warning, not an error,
 * as in stacker.
 */
export function recursiveBuildCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values } = parseCommandArgs(ctx.argv, recursiveBuildOptions, RECURSIVE_BUILD_USAGE, 0);
    if (printedHelp(values, RECURSIVE_BUILD_USAGE)) return 0;
    const flags = values as unknown as Flags;
    const engineFlags = engineBuildFlags(flags);

    const files = findStackerFiles({
      searchDir: flags['search-dir'],
      pattern: flags['stacker-file-pattern'],
      skipDirs: [ctx.dirs.stackerDir, ctx.dirs.rootsDir, ctx.dirs.ociDir],
    });
    if (files.length === 0) {
      ctx.log.warn(
        `no stacker files match ${flags['stacker-file-pattern']} under ${flags['search-dir']}`,
      );
      return 0;
    }
    ctx.log.debug(`stacker files found: ${files.join(' ')}`);

    const summary = await build({
      stackerFiles: files,
      ...ctx.dirs,
      ...engineFlags,
      debug: ctx.debug,
      log: ctx.log,
      signal: ctx.signal,
    });
    if (!flags['order-only']) {
      const built = summary.layers.filter((l) => l.status === 'built').length;
      const reused = summary.layers.length - built;
      ctx.log.info(
        `done: ${files.length} stacker files, ${built} layers built, ${reused} reused; ` +
          `images in ${ctx.dirs.ociDir}`,
      );
    }
    return 0;
  });
}
