/** The build executor's options (see schema.json, which Nx validates them against). */
export interface BuildExecutorOptions {
  /** The stacker file, relative to the workspace root. */
  stackerFile: string;
  /** Build only this layer (and what it needs) and export it to the layer's output. */
  layer?: string;
  /** `KEY=VALUE` values for `${{KEY}}` placeholders. */
  substitute?: string[];
  /** Output layer types, in order (stacker's `--layer-type`): tar, squashfs, erofs. */
  layerTypes?: string[];
  /** dm-verity data on squashfs and erofs layers (default true; stacker's `--no-verity`). */
  verity?: boolean;
  /** gzip level of new tar layers, 1 (fastest) to 9 (smallest); default 6. */
  gzipLevel?: number;
  /** Print the engine's debug output. */
  verbose?: boolean;
}

/** How a workspace names the executor: the package name, then the executor's name. */
export const BUILD_EXECUTOR = 'nx-stacker:build';
