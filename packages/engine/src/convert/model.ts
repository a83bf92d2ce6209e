/** What `convert` builds while reading a Dockerfile, before it becomes YAML. */

/** An `imports` entry of a converted layer. */
export interface ImportOut {
  path: string;
  dest: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A converted layer, with stacker's directive names. */
export interface LayerOut {
  from: { type: string; url?: string; tag?: string };
  build_only?: boolean;
  build_env: Record<string, string>;
  os?: string;
  arch?: string;
  imports: ImportOut[];
  run: string[];
  cmd?: string[];
  entrypoint?: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  volumes: string[];
  working_dir?: string;
  runtime_user?: string;
}

/** One build stage (FROM … up to the next FROM) and the state Docker keeps for it. */
export interface Stage {
  /** 0-based position, as `COPY --from=<n>` counts. */
  index: number;
  /** `FROM … AS <name>`, or undefined. */
  name?: string;
  line: number;
  layer: LayerOut;
  /** ENV so far: name -> the value as shell text, for `export` lines in run steps. */
  env: Map<string, string>;
  /** What this layer's run script has exported already. */
  exported: Map<string, string>;
  /** WORKDIR so far ('' when never set). */
  workdir: string;
  /** Whether run lines already `cd` into `workdir` (a stage built on another must cd again). */
  inWorkdir: boolean;
  /** USER so far (the user part), for `su` in run lines. */
  user?: string;
}

/** A Dockerfile instruction, or part of one, that has no stacker equivalent. */
export interface Unconverted {
  line: number;
  keyword: string;
  reason: string;
}
