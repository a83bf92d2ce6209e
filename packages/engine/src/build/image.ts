import type { Descriptor, History, ImageConfig, ImageManifest } from '../oci/types';
import { MEDIA_TYPE_CONFIG, MEDIA_TYPE_MANIFEST } from '../oci/types';
import type { Layer } from '../parse/types';
import { DEFAULT_PATH } from '../run/environment';

/** An image being assembled: plain data, written to the OCI dir only when complete. */
export interface DraftImage {
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Time and author recorded in what a build adds. */
export interface Stamp {
  /** RFC 3339, seconds precision: SOURCE_DATE_EPOCH when set, else now. */
  created: string;
  /** `stacker` when SOURCE_DATE_EPOCH is set (as stacker writes it), else user@host. */
  author: string;
}

export function makeStamp(sourceDateEpoch: number | undefined, userAtHost: string): Stamp {
  const date = sourceDateEpoch === undefined ? new Date() : new Date(sourceDateEpoch * 1000);
  const created = `${date.toISOString().slice(0, 19)}Z`;
  return { created, author: sourceDateEpoch === undefined ? userAtHost : 'stacker' };
}

/**
 * Starts from `base` (deep-copied), or from an empty image for scratch and tar bases: no
 * layers, the layer's os and architecture, no history.
 */
export function startImage(
  base: { manifest: ImageManifest; config: ImageConfig } | undefined,
  layer: Layer,
  stamp: Stamp,
): DraftImage {
  if (base) return structuredClone({ manifest: base.manifest, config: base.config });
  return {
    manifest: {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      config: { mediaType: MEDIA_TYPE_CONFIG, digest: '', size: 0 },
      layers: [],
    },
    config: {
      created: stamp.created,
      architecture: layer.arch,
      os: layer.os,
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
    },
  };
}

/** Appends one OCI layer with its history entry. */
export function appendLayer(
  image: DraftImage,
  layer: { descriptor: Descriptor; diffId: string; createdBy: string },
  stamp: Stamp,
): void {
  image.manifest.layers.push(layer.descriptor);
  image.config.rootfs.diff_ids.push(layer.diffId);
  const entry: History = { created: stamp.created, created_by: layer.createdBy };
  image.config.history = [...(image.config.history ?? []), entry];
}

/**
 * Applies a layer's image directives to the config (stacker's order). Deliberate differences
 * from stacker, documented in docs/architecture.md:
 * - `cmd` and `entrypoint` are inherited from the base when the layer does not set them
 *   (stacker resets both to null);
 * - `environment` keeps file order, and a variable set again replaces the inherited value
 *   instead of being appended twice;
 * - `variant` is kept when the architecture does not change.
 */
export function applyImageDirectives(image: DraftImage, layer: Layer, stamp: Stamp): void {
  const config = image.config;
  const run = { ...(config.config ?? {}) };
  run.Labels = { ...(run.Labels ?? {}) };

  // Environment, in file order, replacing inherited values of the same name.
  const env = [...(run.Env ?? [])];
  for (const [name, value] of layer.environment) {
    const at = env.findIndex((e) => e.split('=')[0] === name);
    if (at >= 0) env[at] = `${name}=${value}`;
    else env.push(`${name}=${value}`);
  }
  if (!env.some((e) => e.startsWith('PATH='))) env.push(`PATH=${DEFAULT_PATH}`);
  run.Env = env;

  // Command: full_command is the entrypoint with no cmd.
  if (layer.fullCommand) {
    run.Entrypoint = layer.fullCommand;
    run.Cmd = undefined;
  } else {
    if (layer.cmd) run.Cmd = layer.cmd;
    if (layer.entrypoint) run.Entrypoint = layer.entrypoint;
  }

  if (layer.volumes.length) {
    run.Volumes = { ...(run.Volumes ?? {}) };
    for (const v of layer.volumes) run.Volumes[v] = {};
  }
  Object.assign(run.Labels, layer.labels);
  if (layer.workingDir) run.WorkingDir = layer.workingDir;
  if (layer.runtimeUser) run.User = layer.runtimeUser;
  config.config = run;

  // Metadata.
  if (config.architecture !== layer.arch) config.variant = undefined;
  config.created = stamp.created;
  config.author = stamp.author;
  config.architecture = layer.arch;
  config.os = layer.os;
  config.history = [
    ...(config.history ?? []),
    {
      created: stamp.created,
      created_by: 'stacker build',
      author: stamp.author,
      empty_layer: true,
    },
  ];
}

/**
 * Manifest annotations: inherited ones, then the layer's, then ours under `namespace`
 * (`io.stackeroci` by default, as stacker writes them). Without `stackerYaml` the file's
 * annotations (stacker_yaml, git_version) are left out, inherited ones included.
 */
export function annotate(
  image: DraftImage,
  layer: Layer,
  opts: { namespace: string; stackerYaml?: string; version: string; gitVersion?: string },
): void {
  const ours: Record<string, string> = {};
  if (opts.gitVersion) ours[`${opts.namespace}.stacker.git_version`] = opts.gitVersion;
  if (opts.stackerYaml !== undefined) {
    ours[`${opts.namespace}.stacker.stacker_yaml`] = opts.stackerYaml;
  }
  ours[`${opts.namespace}.stacker.stacker_version`] = opts.version;
  const merged = { ...image.manifest.annotations, ...layer.annotations, ...ours };
  if (opts.stackerYaml === undefined) {
    // Without the file's annotations, none inherited from the base either.
    delete merged[`${opts.namespace}.stacker.stacker_yaml`];
    delete merged[`${opts.namespace}.stacker.git_version`];
  }
  image.manifest.annotations = merged;
}
