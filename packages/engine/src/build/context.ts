import type { SourceImage } from '../bases/resolve';
import type { BuildCache, LayerResult } from '../cache/store';
import type { LayerType } from '../layer-types/types';
import type { Logger } from '../log';
import type { OciLayout } from '../oci/layout';
import type { Roots } from '../storage/roots';
import type { LayerExport } from './export';
import type { Stamp } from './image';

/** Settings of one build, after defaults and validation. */
export interface BuildSettings {
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
  sourceDateEpoch?: number;
  noCache: boolean;
  /** With `noCache`, the only layers it applies to (`BuildOptions.layers`); else all. */
  noCacheOnly?: ReadonlySet<string>;
  debug: boolean;
  onRunFailure?: string;
  annotationsNamespace: string;
  /** Stamp the stacker_yaml and git_version annotations (BuildOptions.fileAnnotations). */
  fileAnnotations: boolean;
  /** Written into the `stacker_version` annotation. */
  version: string;
  /** The caller prints layer outcomes: the engine logs them at debug level only. */
  reportsOutcomes: boolean;
  /** gzip level of generated layers (1 fastest .. 9 smallest). */
  gzipLevel: number;
  /** `--layer-type`s, the primary first; absent means tar only (see outputTypes). */
  layerTypes?: LayerType[];
}

/** A layer that is available to build on: built in this run or reused from the cache. */
export interface AvailableLayer {
  key: string;
  result: LayerResult;
  image: SourceImage;
}

/** What every step of a build shares. */
export interface BuildContext {
  settings: BuildSettings;
  log: Logger;
  roots: Roots;
  /** The OCI dir: every blob we produce, every tag we write. */
  layout: OciLayout;
  cache: BuildCache;
  stamp: Stamp;
  /** Layers built or reused so far in this build, by name. */
  available: Map<string, AvailableLayer>;
  /** Layers exported by earlier builds (Nx task outputs) that may be restored instead of built. */
  exports: LayerExport[];
  /** Where to export a layer once built or reused, if it is to be exported. */
  exportDirFor(name: string): string | undefined;
  /** `git_version` annotation for a stacker file's directory (memoised), or undefined. */
  gitVersion(dir: string): string | undefined;
  signal?: AbortSignal;
  /** The environment `build_env_passthrough` selects from. */
  env: NodeJS.ProcessEnv;
}

/** What happened to one layer, for the summary and for callers such as the Nx executor. */
export interface LayerOutcome {
  name: string;
  file: string;
  key: string;
  status: 'built' | 'reused' | 'restored';
  /** Why it was rebuilt, or where it was reused from. */
  reason: string;
  buildOnly: boolean;
  manifest: LayerResult['manifest'];
  /** Size of the new OCI layers (compressed) and time taken; 0 when reused. */
  bytes: number;
  seconds: number;
}
