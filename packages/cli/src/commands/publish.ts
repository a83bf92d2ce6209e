import { DEFAULT_STACKER_FILE_PATTERN, findStackerFiles, publish } from '@nx-stacker/engine';
import { PUBLISH_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';
import { gzipLevelFlag } from './build';

/** `publish`'s flags, as stacker spells them. */
export const publishOptions = {
  'stacker-file': { type: 'string', short: 'f', default: 'stacker.yaml' },
  'stacker-file-pattern': { type: 'string', short: 'p', default: DEFAULT_STACKER_FILE_PATTERN },
  'search-dir': { type: 'string', short: 'd' },
  substitute: { type: 'string', multiple: true, default: [] as string[] },
  'substitute-file': { type: 'string' },
  url: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'skip-tls': { type: 'boolean' },
  tag: { type: 'string', multiple: true, default: [] as string[] },
  'show-only': { type: 'boolean' },
  force: { type: 'boolean' },
  'layer-type': { type: 'string', multiple: true },
  image: { type: 'string', multiple: true },
  'gzip-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface PublishFlags {
  'stacker-file': string;
  'stacker-file-pattern': string;
  'search-dir'?: string;
  substitute: string[];
  'substitute-file'?: string;
  url?: string;
  username?: string;
  password?: string;
  'skip-tls'?: boolean;
  tag: string[];
  'show-only'?: boolean;
  force?: boolean;
  'layer-type'?: string[];
  image?: string[];
  'gzip-level'?: string;
}

/**
 * `nx-stacker publish`: sends the built layers of a stacker file (or of every stacker file
 * under `--search-dir`) to `--url` under each `--tag`. Credentials come from `--username` and
 * `--password` or the containers auth files; they are never printed.
 */
export function publishCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values } = parseCommandArgs(ctx.argv, publishOptions, PUBLISH_USAGE, 0);
    if (printedHelp(values, PUBLISH_USAGE)) return 0;
    const flags = values as unknown as PublishFlags;

    const stackerFiles = flags['search-dir']
      ? findStackerFiles({
          searchDir: flags['search-dir'],
          pattern: flags['stacker-file-pattern'],
          skipDirs: [ctx.dirs.stackerDir, ctx.dirs.rootsDir, ctx.dirs.ociDir],
        })
      : [flags['stacker-file']];
    if (stackerFiles.length === 0) {
      ctx.log.warn(`no stacker files found under ${flags['search-dir']}`);
      return 0;
    }

    const images = await publish({
      stackerFiles,
      ...ctx.dirs,
      substitutions: flags.substitute,
      substituteFile: flags['substitute-file'],
      url: flags.url ?? '',
      tags: flags.tag,
      username: flags.username,
      password: flags.password,
      skipTls: flags['skip-tls'],
      images: flags.image,
      layerTypes: flags['layer-type'],
      gzipLevel: gzipLevelFlag(flags['gzip-level']),
      showOnly: flags['show-only'],
      force: flags.force,
      log: ctx.log,
      signal: ctx.signal,
    });
    if (!flags['show-only']) ctx.log.info(`done: ${images.length} images published`);
    return 0;
  });
}
