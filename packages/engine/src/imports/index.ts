/** The imports step: stage a layer's imports for its container and digest them for the cache. */
export { type Acquired, type Acquirer, type ImportScheme, importScheme } from './acquire';
export { hashFileContent } from './hash';
export { hashImport, type ImportDigestOptions, importDigest } from './import-digest';
export { placeImport } from './placement';
export { stageImports } from './stage';
export { RUN_SCRIPT_NAME } from './stage-dir';
export { hashTree, type TreeEntry, type TreeHash } from './tree';
export type { ImportDigest, ImportKind, ImportTree, StagedImports } from './types';
