/** Options of the `init` generator; see schema.json for what each one does. */
export interface InitGeneratorSchema {
  skipFormat?: boolean;
  skipPackageJson?: boolean;
  keepExistingVersions?: boolean;
  /** Accepted because `nx add` passes it; nx-stacker has no package scripts to rewrite. */
  updatePackageScripts?: boolean;
}
