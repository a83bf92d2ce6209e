/**
 * The parse step: stacker.yaml text to the typed model of types.ts. Every later step works on
 * that model only.
 */
export { BASE_TYPES } from './from';
export { DIRECTIVES, hostArch } from './layer';
export { loadStackerFiles } from './load';
export { splitShellWords } from './shellwords';
export { loadStackerFile, parseStackerText } from './stackerfile';
export {
  buildSubstitutions,
  type SubstituteOptions,
  type SubstitutionSources,
  substitute,
} from './substitute';
export type * from './types';
