/**
 * The plugin's options, as a workspace writes them in nx.json:
 *
 *   { "plugin": "nx-stacker", "options": { "buildTargetName": "image" },
 *     "include": ["images/**"], "exclude": ["images/legacy/**"] }
 *
 * `include` and `exclude` are Nx's own: they narrow the stacker files the plugin sees.
 */
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
