/**
 * The external programs squashfs and erofs layers need, found on the build's PATH and run
 * with their output captured, so a failure can quote what the tool said.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { StackerError } from '../errors';
import { loadExeca } from '../native/execa';

/** The Debian package that provides each tool, for the hint of a "not found" error. */
const PACKAGES: Record<string, string> = {
  mksquashfs: 'squashfs-tools',
  unsquashfs: 'squashfs-tools',
  'mkfs.erofs': 'erofs-utils',
  veritysetup: 'cryptsetup-bin',
  mount: 'mount',
  umount: 'mount',
  cp: 'coreutils',
  zstd: 'zstd',
  xz: 'xz-utils',
  bzip2: 'bzip2',
};

/**
 * Searched after PATH: a user's PATH often lacks the sbin dirs, where Debian installs
 * veritysetup.
 */
const SYSTEM_DIRS = ['/usr/sbin', '/sbin'];

/** What a tool printed and how it ended. */
export interface ToolResult {
  stdout: string;
  stderr: string;
}

/**
 * Absolute path of `name` on `env.PATH` (then the sbin dirs). Throws a StackerError naming
 * the package to install when it is nowhere: `what` says what needed it, `otherwise` how to
 * do without it.
 */
export function findTool(
  name: string,
  env: NodeJS.ProcessEnv,
  what: string,
  otherwise = ', or build with --layer-type tar',
): string {
  const path = env.PATH ?? process.env.PATH ?? '';
  const dirs = [...path.split(delimiter).filter((d) => d !== ''), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; look further.
    }
  }
  const pkg = PACKAGES[name] ?? name;
  throw new StackerError(
    `${name} not found on PATH, and ${what} needs it`,
    { step: 'pack' },
    `install it (on Debian or Ubuntu: apt-get install ${pkg})${otherwise}`,
  );
}

/**
 * Runs `name` (found with `findTool`) with `args`. `env` replaces the environment entirely,
 * so the caller decides what reaches the tool (SOURCE_DATE_EPOCH in particular). A non-zero
 * exit throws a StackerError `<failure>: <tool's stderr>`.
 */
export async function runTool(args: {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  what: string;
  failure: string;
  /** The build step named in errors (default `pack`). */
  step?: string;
  signal?: AbortSignal;
}): Promise<ToolResult> {
  const file = findTool(args.name, args.env, args.what);
  const { execa } = await loadExeca();
  const result = await execa(file, args.args, {
    env: args.env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    cancelSignal: args.signal,
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.failed) {
    args.signal?.throwIfAborted();
    const said = (stderr.trim() || stdout.trim() || (result.shortMessage ?? '')).split('\n');
    const how = result.exitCode === undefined ? 'failed' : `exited with ${result.exitCode}`;
    throw new StackerError(`${args.failure}: ${args.name} ${how}: ${said.slice(-5).join(' | ')}`, {
      step: args.step ?? 'pack',
    });
  }
  return { stdout, stderr };
}

/** The environment a filesystem tool runs with: PATH, and SOURCE_DATE_EPOCH when set. */
export function toolEnv(env: NodeJS.ProcessEnv, sourceDateEpoch?: number): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: env.PATH ?? process.env.PATH ?? '', LC_ALL: 'C' };
  if (sourceDateEpoch !== undefined) out.SOURCE_DATE_EPOCH = String(sourceDateEpoch);
  return out;
}

/**
 * Output of `name args` (stdout and stderr together) whatever its exit status: for reading
 * a tool's help, which some tools print with a non-zero status.
 */
export async function probeTool(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<string> {
  const file = findTool(name, env, what);
  const { execa } = await loadExeca();
  const result = await execa(file, args, {
    env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    all: true,
  });
  return String(result.all ?? '');
}

/** What `helpOffers` found, by tool, feature and PATH. */
const offered = new Map<string, Promise<boolean>>();

/**
 * Whether `name --help` shows that the tool offers `feature` (`test` reads the help text),
 * asked once per tool, feature and PATH.
 */
export function helpOffers(args: {
  name: string;
  feature: string;
  test: (help: string) => boolean;
  env: NodeJS.ProcessEnv;
  what: string;
}): Promise<boolean> {
  const key = `${args.name}\0${args.feature}\0${args.env.PATH ?? ''}`;
  let known = offered.get(key);
  if (!known) {
    known = probeTool(args.name, ['--help'], args.env, args.what).then(args.test);
    offered.set(key, known);
  }
  return known;
}
