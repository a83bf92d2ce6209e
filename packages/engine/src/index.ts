/**
 * The nx-stacker engine: builds OCI images from stacker.yaml files. It knows nothing of the
 * command line or of Nx; both are thin faces on this API.
 */

export { writeBusyboxImage } from './bases/busybox';
export { type BuildSummary, build } from './build/build';
export type { LayerOutcome } from './build/context';
export { findExports, type LayerExport } from './build/export';
export type { BuildOptions } from './build/options';
export { CACHE_VERSION, definitionHash } from './cache/key';
export { formatLocation, isStackerError, type Location, StackerError } from './errors';
export { type Logger, memoryLogger, silentLogger } from './log';
export { OciLayout } from './oci/layout';
export type { Descriptor, ImageConfig, ImageManifest } from './oci/types';
export { buildSubstitutions, loadStackerFiles, parseStackerText } from './parse';
export type { Layer, StackerFile } from './parse/types';
export { type BuildPlan, planBuild, stackerUrlLayer } from './plan/order';
export { ENGINE_VERSION } from './version';
