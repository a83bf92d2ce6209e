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
}

/** The options with every default filled in. */
export interface NormalizedOptions {
  buildTargetName: string;
  layerTargetPrefix: string;
  baseTargetName: string;
  /** `KEY=VALUE` entries, in the order written. */
  substitute: string[];
}

/** Fills in defaults once, so the rest of the plugin never checks for undefined. */
export function normalizeOptions(options: StackerPluginOptions | undefined): NormalizedOptions {
  const buildTargetName = options?.buildTargetName || 'build';
  return {
    buildTargetName,
    layerTargetPrefix: options?.layerTargetPrefix ?? '',
    baseTargetName: options?.baseTargetName || buildTargetName,
    substitute: Object.entries(options?.substitutions ?? {}).map(([k, v]) => `${k}=${v}`),
  };
}
