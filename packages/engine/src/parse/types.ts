/**
 * The stacker file model after substitution, YAML parsing, validation and normalisation.
 * Every later step works on these types only, never on raw YAML.
 */

/** Where a value came from in its stacker file (1-based). */
export interface SourcePos {
  line: number;
  column: number;
}

export type BaseType = 'docker' | 'oci' | 'tar' | 'built' | 'scratch';

/** The `from` directive. */
export interface From {
  type: BaseType;
  /**
   * docker/oci/tar: the reference or path. A relative local path of an `oci` url (the part
   * before the first `:`) or a `tar` url is made absolute against the stacker file's
   * directory (stacker uses the cwd); docker references and `://` urls are as written.
   */
  url?: string;
  /** built: the name of the parent layer. */
  tag?: string;
  insecure: boolean;
  pos?: SourcePos;
}

/** One entry of `imports` (or of the deprecated `import`). */
export interface Import {
  /**
   * Absolute local path (a trailing `/` kept when written), or a url (`http(s)://`,
   * `stacker://`).
   */
  path: string;
  /** Expected sha256, lower-case hex without `sha256:`. */
  hash?: string;
  /** Absolute path inside the image; turns the import into its own OCI layer. */
  dest?: string;
  /** Permission bits for the copy (only the 0o777 bits are applied). */
  mode?: number;
  /** Owner for the copy; undefined keeps the source's. */
  uid?: number;
  gid?: number;
  pos?: SourcePos;
}

/**
 * One entry of `binds`: a host path bind-mounted during `run`, read-write as in stacker. A
 * bind written with `hash: true` (our extension) is mounted read-only and its content counts
 * in the layer's cache key, so the layer can be reused like any other.
 */
export interface Bind {
  source: string;
  dest: string;
  hash?: boolean;
  pos?: SourcePos;
}

/** One entry of `overlay_dirs`. */
export interface OverlayDir {
  source: string;
  dest: string;
  pos?: SourcePos;
}

/** One top-level entry of a stacker file other than `config`. */
export interface Layer {
  name: string;
  /** Absolute path of the stacker file that defines this layer. */
  file: string;
  /** Position of the layer's key in the file. */
  pos: SourcePos;
  from: From;
  imports: Import[];
  /** True when the layer used the deprecated `import:` (files appear under /stacker). */
  legacyImport: boolean;
  overlayDirs: OverlayDir[];
  /** The `run` script lines (a string is one line). Empty: nothing to run. */
  run: string[];
  /** undefined when the directive is absent; an array (split with shell rules) otherwise. */
  cmd?: string[];
  entrypoint?: string[];
  fullCommand?: string[];
  /** undefined or empty: stacker's default passthrough list. */
  buildEnvPassthrough?: string[];
  buildEnv: Record<string, string>;
  /** In file order. */
  environment: [string, string][];
  volumes: string[];
  labels: Record<string, string>;
  generateLabels: string[];
  workingDir?: string;
  runtimeUser?: string;
  buildOnly: boolean;
  binds: Bind[];
  annotations: Record<string, string>;
  os: string;
  arch: string;
  /** Positions of the directives present, by directive name, for located errors later on. */
  directivePos: Record<string, SourcePos>;
}

/** One parsed stacker file. */
export interface StackerFile {
  /** Absolute path. */
  path: string;
  /** Directory relative paths in the file resolve against. */
  dir: string;
  /** The file's text after substitution (stored in the `stacker_yaml` annotation). */
  text: string;
  /** Layers in file order. */
  layers: Layer[];
  /** `config.prerequisites`, made absolute against `dir`. */
  prerequisites: string[];
  /** Where each entry of `prerequisites` is written (same order), for located errors. */
  prerequisitesPos?: SourcePos[];
}

/** Options for reading stacker files. */
export interface ParseOptions {
  /**
   * `KEY=VALUE` entries in the order they apply: `--substitute` flags, then
   * `--substitute-file` entries not already given, then the STACKER_* built-ins.
   */
  substitutions: string[];
  /**
   * The value of a placeholder that has neither a value nor a default (publish: `dummy`, as in
   * stacker); without it, or when it returns undefined, that is an error.
   */
  missingValue?: (name: string) => string | undefined;
  /** `--require-hash`: http(s) imports must carry a `hash`. */
  requireHash?: boolean;
  /** Receives deprecation warnings and placeholder-misuse messages. */
  warn?: (message: string) => void;
  /** Receives per-substitution usage details for `--debug`. */
  debug?: (message: string) => void;
}
