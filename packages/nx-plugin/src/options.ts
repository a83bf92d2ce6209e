/**
 * The plugin's options, as a workspace writes them in nx.json:
 *
 *   { "plugin": "nx-stacker", "options": { "buildTargetName": "image" },
 *     "include": ["images/**"], "exclude": ["images/legacy/**"] }
 *
 * `include` and `exclude` are Nx's own: they narrow the stacker files the plugin sees.
 */
import { LAYER_KINDS } from './engine';

export interface StackerPluginOptions {
  /**
   * Name of the target that builds every layer of a stacker file and assembles the file's
   * OCI layout (`nx run image:build`). Default `build`.
   */
  buildTargetName?: string;
  /** Prefix of each layer's target name (`layer-` gives `nx run image:layer-app`). Default ''. */
  layerTargetPrefix?: string;
  /**
   * Target to run in another project that holds a local base (an OCI layout or tarball) a
   * layer starts from, so the base is made first. Default: `buildTargetName`.
   */
  baseTargetName?: string;
  /** `${{KEY}}` values for every stacker file, as `--substitute KEY=VALUE` gives them. */
  substitutions?: Record<string, string>;
  /**
   * Output layer types of every build, in order (stacker's `--layer-type`): `tar` (default),
   * `squashfs`, `erofs`. Each type after tar adds tags `<layer>-squashfs` / `<layer>-erofs`.
   */
  layerTypes?: string[];
  /** dm-verity data on squashfs and erofs layers. Default true. */
  verity?: boolean;
  /**
   * gzip level of new tar layers, 1 (fastest) to 9 (smallest). Default 6. A workspace that
   * builds mostly for local testing may prefer 1.
   */
  gzipLevel?: number;
  /**
   * Name of the target that publishes the images of a stacker file to a registry
   * (`nx run image:publish`). Default `publish`.
   */
  publishTargetName?: string;
  /** Defaults for every project's publish and `nx-release-publish` targets. */
  publish?: PublishDefaults;
}

/**
 * What every project publishes with unless its target options say otherwise. None of these
 * is a secret: credentials are read from the environment variables named here.
 */
export interface PublishDefaults {
  /** `docker://<registry>[/<namespace>]` or `oci:<layout dir>` (stacker's `--url`). */
  url?: string;
  /** Tags every image is published under (stacker's `--tag`). */
  tags?: string[];
  /** Accept any certificate from the registry and fall back to plain http. */
  skipTls?: boolean;
  /** The registry user name; `usernameEnv` names a variable holding it instead. */
  username?: string;
  usernameEnv?: string;
  /** The variable holding the registry password. */
  passwordEnv?: string;
  /** Infer an `nx-release-publish` target, so `nx release publish` publishes. Default true. */
  release?: boolean;
}

/** The options with every default filled in. */
export interface NormalizedOptions {
  buildTargetName: string;
  layerTargetPrefix: string;
  baseTargetName: string;
  /** `KEY=VALUE` entries, in the order written. */
  substitute: string[];
  /** Build settings every build target passes on, only those that differ from the default. */
  build: { layerTypes?: string[]; verity?: boolean; gzipLevel?: number };
  publishTargetName: string;
  /** The `nx-release-publish` target's name, or undefined when it is not inferred. */
  releaseTargetName?: string;
  /** `publish` without `release`: what goes into the publish targets' options. */
  publish: Omit<PublishDefaults, 'release'>;
}

/** The target `nx release publish` runs in every project it publishes (Nx's fixed name). */
export const RELEASE_PUBLISH_TARGET = 'nx-release-publish';

/** Fills in defaults once, so the rest of the plugin never checks for undefined. */
export function normalizeOptions(options: StackerPluginOptions | undefined): NormalizedOptions {
  checkOptions(options);
  const buildTargetName = options?.buildTargetName || 'build';
  const { release, ...publish } = options?.publish ?? {};
  return {
    buildTargetName,
    layerTargetPrefix: options?.layerTargetPrefix ?? '',
    baseTargetName: options?.baseTargetName || buildTargetName,
    substitute: Object.entries(options?.substitutions ?? {}).map(([k, v]) => `${k}=${v}`),
    build: {
      ...(options?.layerTypes?.length ? { layerTypes: [...options.layerTypes] } : {}),
      ...(options?.verity === false ? { verity: false } : {}),
      ...(options?.gzipLevel !== undefined && options.gzipLevel !== 6
        ? { gzipLevel: options.gzipLevel }
        : {}),
    },
    publishTargetName: options?.publishTargetName || 'publish',
    releaseTargetName: release === false ? undefined : RELEASE_PUBLISH_TARGET,
    publish,
  };
}

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isBoolean: Check = (v) => typeof v === 'boolean';
const isStringList: Check = (v) => Array.isArray(v) && v.every(isString);
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each option: how to check it, and what it should be, for the message. */
const OPTION_RULES: Record<string, [Check, string]> = {
  buildTargetName: [isString, 'a target name'],
  layerTargetPrefix: [isString, 'a string'],
  baseTargetName: [isString, 'a target name'],
  publishTargetName: [isString, 'a target name'],
  substitutions: [
    (v) => isMap(v) && Object.values(v).every((x) => ['string', 'number'].includes(typeof x)),
    'a map of KEY: value',
  ],
  layerTypes: [
    (v) => Array.isArray(v) && v.every((t) => (LAYER_KINDS as readonly unknown[]).includes(t)),
    `a list of ${LAYER_KINDS.join(', ')}`,
  ],
  verity: [isBoolean, 'true or false'],
  gzipLevel: [
    (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 9,
    'a whole number from 1 to 9',
  ],
  publish: [isMap, 'a map (url, tags, skipTls, username, usernameEnv, passwordEnv, release)'],
};

const PUBLISH_RULES: Record<string, [Check, string]> = {
  url: [isString, 'docker://<registry>[/<namespace>] or oci:<dir>'],
  tags: [isStringList, 'a list of tags'],
  skipTls: [isBoolean, 'true or false'],
  username: [isString, 'a string'],
  usernameEnv: [isString, 'the name of an environment variable'],
  passwordEnv: [isString, 'the name of an environment variable'],
  release: [isBoolean, 'true or false'],
};

/**
 * Refuses plugin options Nx would otherwise pass on to every task, where they would fail
 * each build (or be ignored): unknown names, wrong types, values out of range. Thrown while
 * Nx builds the project graph, so the message names nx.json, not a task.
 */
function checkOptions(options: unknown): void {
  if (options === undefined || options === null) return;
  const where = 'nx.json: the options of the nx-stacker plugin';
  if (!isMap(options)) throw new Error(`${where} must be a map`);
  const check = (
    map: Record<string, unknown>,
    rules: Record<string, [Check, string]>,
    prefix: string,
  ) => {
    for (const [key, value] of Object.entries(map)) {
      const rule = rules[key];
      if (!rule) {
        throw new Error(
          `${where}: unknown option '${prefix}${key}' (known: ${Object.keys(rules).join(', ')})`,
        );
      }
      if (value !== undefined && !rule[0](value)) {
        throw new Error(
          `${where}: '${prefix}${key}' must be ${rule[1]}, not ${JSON.stringify(value)}`,
        );
      }
    }
  };
  check(options, OPTION_RULES, '');
  if (isMap(options.publish)) check(options.publish, PUBLISH_RULES, 'publish.');
}
