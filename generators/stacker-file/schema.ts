/** What a new layer starts from: stacker's `from.type` values. */
export type BaseType = 'oci' | 'tar' | 'scratch' | 'built' | 'docker';

/** Options of the `stacker-file` generator; see schema.json for what each one does. */
export interface StackerFileGeneratorSchema {
  directory: string;
  layer?: string;
  baseType?: BaseType;
  baseUrl?: string;
  baseTag?: string;
  imports?: string[];
  run?: string;
  skipFormat?: boolean;
}
