/**
 * The engine, as the plugin loads it. Every value the plugin takes from @nx-stacker/engine
 * comes through here, never by importing the package directly, so there is one place that
 * decides how the engine is loaded.
 *
 * Nx starts its plugin workers with `--conditions development`; our packages therefore name
 * their TypeScript-source export `nx-stacker-source`, which only this repository's tests and
 * tools ask for, and a user's workspace always gets the compiled engine.
 */
import * as engine from '@nx-stacker/engine';

export type {
  Descriptor,
  ImageManifest,
  Layer,
  LayerExport,
  LayerKind,
  LayerOutcome,
  Logger,
  StackerFile,
} from '@nx-stacker/engine';

export const {
  build,
  buildSubstitutions,
  CACHE_VERSION,
  checkStorageOwner,
  commandInUserNamespace,
  definitionHash,
  ENGINE_VERSION,
  escapeLayerName,
  findExports,
  isStackerError,
  LAYER_KINDS,
  layerTagName,
  loadStackerFiles,
  needsUserNamespace,
  OciLayout,
  planBuild,
  publish,
  resultManifests,
  StackerError,
} = engine;

/** The engine's error class as a type (the value above is the class itself). */
export type StackerError = engine.StackerError;
/** The engine's OCI layout class as a type. */
export type OciLayout = engine.OciLayout;
