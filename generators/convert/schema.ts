/** Options of the `convert` generator; see schema.json for what each one does. */
export interface ConvertGeneratorSchema {
  /** Workspace-relative path of the Dockerfile. */
  dockerfile: string;
  /** Workspace-relative path of the stacker file to write (default: beside the Dockerfile). */
  outputFile?: string;
  /** Workspace-relative path of the substitute file (default: beside the Dockerfile). */
  substituteFile?: string;
  /** Also write each substitution's value as its placeholder's default (default true). */
  inlineDefaults?: boolean;
  /** Replace an existing stacker file or substitute file (default false). */
  overwrite?: boolean;
  skipFormat?: boolean;
}
