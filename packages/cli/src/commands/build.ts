import { build, gzipLevelOf, type Logger, StackerError } from '@nx-stacker/engine';
import type { Dirs } from '../globals';

/** `build`'s flags, as stacker spells them. */
export const buildOptions = {
  'stacker-file': { type: 'string', short: 'f', default: 'stacker.yaml' },
  substitute: { type: 'string', multiple: true, default: [] as string[] },
  'substitute-file': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'layer-type': { type: 'string', multiple: true },
  'no-verity': { type: 'boolean' },
  'no-squashfs-verity': { type: 'boolean' },
  'order-only': { type: 'boolean' },
  'require-hash': { type: 'boolean' },
  'shell-fail': { type: 'boolean' },
  'on-run-failure': { type: 'string' },
  'annotations-namespace': { type: 'string', default: 'io.stackeroci' },
  'gzip-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface BuildFlags {
  'stacker-file': string;
  substitute: string[];
  'substitute-file'?: string;
  'no-cache'?: boolean;
  'layer-type'?: string[];
  'no-verity'?: boolean;
  'no-squashfs-verity'?: boolean;
  'order-only'?: boolean;
  'require-hash'?: boolean;
  'shell-fail'?: boolean;
  'on-run-failure'?: string;
  'annotations-namespace': string;
  'gzip-level'?: string;
}

/**
 * The engine's build options that `build` and `recursive-build` flags set (everything but the
 * files, the dirs and the logger).
 */
export function engineBuildFlags(flags: Omit<BuildFlags, 'stacker-file'>) {
  return {
    substitutions: flags.substitute,
    substituteFile: flags['substitute-file'],
    noCache: flags['no-cache'],
    requireHash: flags['require-hash'],
    orderOnly: flags['order-only'],
    onRunFailure: onRunFailure(flags),
    layerTypes: flags['layer-type'],
    verity: !(flags['no-verity'] || flags['no-squashfs-verity']),
    annotationsNamespace: flags['annotations-namespace'],
    gzipLevel: gzipLevelFlag(flags['gzip-level']),
  };
}

/** `--shell-fail` is `--on-run-failure=/bin/sh`; the two cannot disagree. */
function onRunFailure(flags: Omit<BuildFlags, 'stacker-file'>): string | undefined {
  const given = flags['on-run-failure'];
  if (!flags['shell-fail']) return given;
  if (given && given !== '/bin/sh') {
    throw new StackerError(`--shell-fail is incompatible with --on-run-failure=${given}`);
  }
  return '/bin/sh';
}

/** `--gzip-level` as a number, checked as the engine checks it; undefined if not given. */
export function gzipLevelFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new StackerError(`invalid --gzip-level ${value}: it is a whole number from 1 to 9`);
  }
  return gzipLevelOf(Number(value));
}

/** `nx-stacker build`: builds one stacker file (and its prerequisites). */
export async function buildCommand(args: {
  flags: BuildFlags;
  dirs: Dirs;
  log: Logger;
  debug: boolean;
  signal: AbortSignal;
}): Promise<void> {
  const { flags } = args;
  const summary = await build({
    stackerFiles: [flags['stacker-file']],
    ...args.dirs,
    ...engineBuildFlags(flags),
    debug: args.debug,
    log: args.log,
    signal: args.signal,
  });

  if (!flags['order-only']) {
    const built = summary.layers.filter((l) => l.status === 'built').length;
    const reused = summary.layers.length - built;
    args.log.info(`done: ${built} built, ${reused} reused; images in ${args.dirs.ociDir}`);
  }
}
