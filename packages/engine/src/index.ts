/**
 * The nx-stacker engine: builds OCI images from stacker.yaml files. It knows nothing of the
 * command line or of Nx; both are thin faces on this API.
 */

export { writeBusyboxImage } from './bases/busybox';
export { type BuildSummary, build } from './build/build';
export type { LayerOutcome } from './build/context';
export { findExports, type LayerExport } from './build/export';
export { type BuildOptions, checkStorageDirs, gzipLevelOf } from './build/options';
export { CACHE_VERSION, definitionHash } from './cache/key';
export { resultManifests } from './cache/store';
export { type CheckItem, checkHost, formatHostCheck, type HostCheck } from './check/check';
export { lxcVersion } from './check/probes';
export { type ChrootOptions, chroot, DEFAULT_SHELL } from './chroot/chroot';
export { clean } from './clean/clean';
export { type GcSummary, gc } from './clean/gc';
export {
  type ConvertResult,
  convertDockerfile,
  convertDockerfileFile,
  type Unconverted,
} from './convert/convert';
export { type Dockerfile, type Instruction, parseDockerfile } from './convert/dockerfile';
export { DEFAULT_STACKER_FILE_PATTERN, findStackerFiles } from './discover/stacker-files';
export { formatLocation, isStackerError, type Location, StackerError } from './errors';
export { type GrabOptions, grab } from './grab/grab';
export { formatInspect, humanBytes, type InspectedImage, inspectImages } from './inspect/inspect';
export { LAYER_KINDS, type LayerKind, layerTagName } from './layer-types/types';
export { type Logger, memoryLogger, silentLogger } from './log';
export type { IdMapping, UserNamespaceMap } from './native/runner';
export { setRunnerWarningHandler } from './native/warnings';
export { OciLayout } from './oci/layout';
export type { Descriptor, ImageConfig, ImageManifest } from './oci/types';
export { buildSubstitutions, loadStackerFiles, parseStackerText, splitShellWords } from './parse';
export type { Layer, StackerFile } from './parse/types';
export { type BuildPlan, planBuild, stackerUrlLayer } from './plan/order';
export type { PublishOptions } from './publish/options';
export { type PublishedImage, publish } from './publish/publish';
export { type UnprivSetupOptions, unprivSetup } from './rootless/unpriv-setup';
export {
  checkStorageOwner,
  commandInUserNamespace,
  currentUser,
  type HostUser,
  needsUserNamespace,
  runInUserNamespace,
  userNamespaceMap,
} from './rootless/user-namespace';
export { type BuiltLayer, findBuiltLayer, listBuiltLayers } from './snapshot/built-layer';
export { escapeLayerName } from './util/layer-name';
export { ENGINE_VERSION } from './version';
