/**
 * The publish executor's options (see schema.json) and how they resolve, with the
 * environment and what `nx release publish` passes, into what the engine's `publish` takes.
 * Pure: reads no file and prints nothing, so every rule here is unit-tested.
 */
import { StackerError } from '../../engine';

/** The options a publish or `nx-release-publish` target runs with. */
export interface PublishExecutorOptions {
  /** The stacker file, relative to the workspace root (as for the build executor). */
  stackerFile: string;
  /** `KEY=VALUE` values for `${{KEY}}` placeholders; the build's, so the file reads the same. */
  substitute?: string[];
  /** `docker://<registry>[/<namespace>]` or `oci:<layout dir>`; else $NX_STACKER_PUBLISH_URL. */
  url?: string;
  /** Tags every published layer gets (stacker's `--tag`); `a,b` on the command line. */
  tags?: (string | number)[] | string | number;
  /** The registry user name, or the variable holding it (default NX_STACKER_PUBLISH_USERNAME). */
  username?: string;
  usernameEnv?: string;
  /** The variable holding the registry password (default NX_STACKER_PUBLISH_PASSWORD). */
  passwordEnv?: string;
  skipTls?: boolean;
  /** Publish only these layers (stacker's `--image`). */
  images?: string[];
  /** Stacker's `--layer-type`: which of each layer's image types to publish (default tar). */
  layerTypes?: string[];
  /** Say what would be published, publish nothing (stacker's `--show-only`). */
  showOnly?: boolean;
  verbose?: boolean;

  // What `nx release publish` passes to every `nx-release-publish` target.
  /** `--registry`: replaces the url; `docker://` is added when it has no scheme. */
  registry?: string;
  /** `--tag`: one more tag. */
  tag?: string | number;
  /** `--dry-run` (Nx also sets NX_DRY_RUN=true for tasks run through dependsOn). */
  dryRun?: boolean;
  /** Set by Nx: the command-line overrides as typed (schema: `$source: unparsed`). */
  __unparsed__?: string[];
  /** The versions `nx release` resolved, by project (only when versioning ran in this run). */
  nxReleaseVersionData?: Record<string, { newVersion?: string | null } | undefined>;
}

/** How a workspace names the executor: the package name, then the executor's name. */
export const PUBLISH_EXECUTOR = 'nx-stacker:publish';

/** Environment variables read when the options do not say otherwise. */
export const PUBLISH_ENV = {
  url: 'NX_STACKER_PUBLISH_URL',
  username: 'NX_STACKER_PUBLISH_USERNAME',
  password: 'NX_STACKER_PUBLISH_PASSWORD',
} as const;

/** Options Nx passes that mean nothing for images (npm's); accepted and ignored. */
const IGNORED = ['otp', 'access', 'firstRelease'];

const KNOWN = new Set([
  'stackerFile',
  'substitute',
  'url',
  'tags',
  'username',
  'usernameEnv',
  'passwordEnv',
  'skipTls',
  'images',
  'layerTypes',
  'showOnly',
  'verbose',
  'registry',
  'tag',
  'dryRun',
  'nxReleaseVersionData',
  ...IGNORED,
]);

/** What to publish, resolved; `password` is a secret and must never be printed. */
export interface ResolvedPublish {
  url: string;
  /** Where the url came from, for messages: `option url`, `--registry`, `$NX_…`. */
  urlFrom: string;
  tags: string[];
  username?: string;
  password?: string;
  skipTls: boolean;
  images?: string[];
  layerTypes?: string[];
  showOnly: boolean;
  /** Options this executor does not know, to warn about (an unknown option never fails). */
  unknown: string[];
}

/** Nothing to publish, and why (nx release resolved no new version for the project). */
export interface SkippedPublish {
  skip: string;
}

/**
 * Resolves the options of one task. Throws a StackerError, naming the option or variable to
 * set, when there is no url or no tag, when only one of user name and password is set, or
 * when a password is passed as an option (Nx prints options given on the command line, and
 * project files are committed: passwords come from the environment only).
 */
export function resolvePublish(
  options: PublishExecutorOptions,
  args: { env: NodeJS.ProcessEnv; projectName: string },
): ResolvedPublish | SkippedPublish {
  const { env, projectName } = args;
  const where = { file: options.stackerFile, step: 'publish' };
  if ('password' in options) {
    throw new StackerError(
      'the publish executor takes no password option (its value is not shown here)',
      where,
      'put the password in an environment variable and name it with passwordEnv ' +
        `(default ${PUBLISH_ENV.password})`,
    );
  }

  // nx release: a project it resolved no new version for has nothing new to publish.
  const version = options.nxReleaseVersionData?.[projectName];
  if (version && version.newVersion === null) {
    return { skip: `nx release resolved no new version for ${projectName}; nothing published` };
  }

  const { url, urlFrom } = resolveUrl(options, env, where);
  const tags = resolveTags(options, version?.newVersion ?? undefined);
  if (tags.length === 0) {
    throw new StackerError(
      `no tag to publish the images of ${options.stackerFile} under`,
      where,
      'set tags in the target options or in the plugin\'s "publish" options, pass --tags, or ' +
        'run nx release (which tags with the version it resolves)',
    );
  }
  return {
    url,
    urlFrom,
    tags,
    ...resolveCredentials(options, env, where),
    skipTls: options.skipTls ?? false,
    images: options.images?.length ? options.images.map(String) : undefined,
    layerTypes: options.layerTypes?.length ? options.layerTypes : undefined,
    showOnly: options.showOnly === true || options.dryRun === true || env.NX_DRY_RUN === 'true',
    unknown: Object.keys(options).filter((k) => !KNOWN.has(k) && !k.startsWith('_')),
  };
}

/** `--registry` (nx release), else the url option, else $NX_STACKER_PUBLISH_URL. */
function resolveUrl(
  options: PublishExecutorOptions,
  env: NodeJS.ProcessEnv,
  where: { file: string; step: string },
): { url: string; urlFrom: string } {
  if (options.registry) {
    const registry = String(options.registry);
    const url = /^(docker:\/\/|oci:)/.test(registry) ? registry : `docker://${registry}`;
    return { url, urlFrom: '--registry' };
  }
  if (options.url) return { url: String(options.url), urlFrom: 'option url' };
  const fromEnv = env[PUBLISH_ENV.url];
  if (fromEnv) return { url: fromEnv, urlFrom: `$${PUBLISH_ENV.url}` };
  throw new StackerError(
    `no url to publish the images of ${options.stackerFile} to`,
    where,
    'set url (docker://<registry>[/<namespace>] or oci:<dir>) in the target options or in ' +
      `the plugin's "publish" options, pass --url, or set ${PUBLISH_ENV.url}`,
  );
}

/**
 * The tags option, then `tag`, then the release version, without repeats. A version's `+`
 * (semver build metadata) is not allowed in a tag and becomes `_`, as Helm does for OCI
 * registries.
 */
function resolveTags(options: PublishExecutorOptions, version: string | undefined): string[] {
  const tags = [
    ...(asTyped(options, 'tags') ?? [options.tags ?? []].flat()).flatMap((t) =>
      String(t).split(','),
    ),
    ...(asTyped(options, 'tag') ?? (options.tag === undefined ? [] : [options.tag])),
  ];
  if (version) tags.push(version.replaceAll('+', '_'));
  return [...new Set(tags.map(String).filter((t) => t !== ''))];
}

/**
 * The values of `--<name>` as typed on the command line, when it was given there. Nx parses
 * `nx run` overrides without knowing their types, so `--tag=2.10` arrives as the number 2.1;
 * the schema's `__unparsed__` asks Nx for the arguments as typed.
 */
function asTyped(options: PublishExecutorOptions, name: string): string[] | undefined {
  const raw = options.__unparsed__;
  if (!Array.isArray(raw)) return undefined;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const arg = String(raw[i]);
    if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
    else if (arg === `--${name}` && i + 1 < raw.length) values.push(String(raw[++i]));
  }
  return values.length ? values : undefined;
}

/** The user name (option or variable) and password (variable): both or neither. */
function resolveCredentials(
  options: PublishExecutorOptions,
  env: NodeJS.ProcessEnv,
  where: { file: string; step: string },
): { username?: string; password?: string } {
  const usernameEnv = options.usernameEnv || PUBLISH_ENV.username;
  const passwordEnv = options.passwordEnv || PUBLISH_ENV.password;
  const username = options.username || env[usernameEnv] || undefined;
  const password = env[passwordEnv] || undefined;
  if (!!username !== !!password) {
    const given = username
      ? `a user name (${options.username ? 'option username' : `$${usernameEnv}`})`
      : `a password ($${passwordEnv})`;
    throw new StackerError(
      `only ${given} is set for the registry; give both or neither`,
      where,
      username
        ? `set ${passwordEnv} to the password, or unset the user name to use the auth files`
        : `set username or ${usernameEnv}, or unset ${passwordEnv} to use the auth files`,
    );
  }
  return username ? { username, password } : {};
}
