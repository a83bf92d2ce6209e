/**
 * The nx-stacker engine: builds OCI images from stacker.yaml files. It knows nothing of the
 * command line or of Nx; both are thin faces on this API.
 */
export { build, type BuildSummary } from './build/build';
export type { LayerOutcome } from './build/context';
export type { BuildOptions } from './build/options';
export { formatLocation, isStackerError, type Location, StackerError } from './errors';
export { type Logger, memoryLogger, silentLogger } from './log';
export { loadStackerFiles } from './parse';
export type { Layer, StackerFile } from './parse/types';
export { type BuildPlan, planBuild } from './plan/order';
export { ENGINE_VERSION } from './version';
export { writeBusyboxImage } from './bases/busybox';
