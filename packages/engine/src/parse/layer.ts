/**
 * One layer of a stacker file: directive names (spec 1.2), each directive's value (1.4-1.8),
 * then the per-layer normalisation of 1.3. Errors are located at the offending node and name
 * the layer and the directive.
 */
import { isMap } from 'yaml';
import {
  decodeBinds,
  decodeCommand,
  decodeOverlayDirs,
  decodePassthrough,
  decodePlatform,
  decodeScript,
} from './directives';
import { decodeFrom } from './from';
import { decodeImports } from './imports';
import type { Import, Layer } from './types';
import { boolValue, suggest, textList, textMap, textValue } from './values';
import {
  fail,
  kindOf,
  type MapEntry,
  mapEntries,
  type NodeContext,
  warnAt,
  type YamlNode,
} from './yaml';

/** The directives a layer may use (stacker's list minus its two internal flags). */
export const DIRECTIVES = [
  'from',
  'imports',
  'import',
  'overlay_dirs',
  'run',
  'cmd',
  'entrypoint',
  'full_command',
  'build_env_passthrough',
  'build_env',
  'environment',
  'volumes',
  'labels',
  'generate_labels',
  'working_dir',
  'build_only',
  'binds',
  'runtime_user',
  'annotations',
  'os',
  'arch',
  'bom',
] as const;

export type Directive = (typeof DIRECTIVES)[number];

/**
 * Stacker accepts these from YAML although it sets them itself (`was_legacy_import: true`
 * switches a layer to the legacy /stacker layout without `import:`). We reject them: the
 * supported way to get that layout is the `import:` directive.
 */
const INTERNAL_FLAGS = ['was_legacy_import', 'was_bom'];

/** An OCI image reference name (what umoci accepts as `org.opencontainers.image.ref.name`). */
const OCI_REF_NAME =
  /^[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*(\/[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*)*$/;

export interface LayerOptions {
  /** The stacker file's directory: relative paths resolve against it. */
  dir: string;
  requireHash?: boolean;
}

/** Go's name for the host architecture, the default of `arch` (stacker uses runtime.GOARCH). */
export function hostArch(arch: string = process.arch): string {
  const goNames: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
    mips: 'mips',
    mipsel: 'mipsle',
  };
  return goNames[arch] ?? arch;
}

/** Reads the layer `entry` (a top-level key other than `config`) of the file in `base`. */
export function parseLayer(base: NodeContext, entry: MapEntry, opts: LayerOptions): Layer {
  const ctx: NodeContext = { ...base, layer: entry.key };
  checkNameSyntax(ctx, entry);

  // Find the directives; a null layer has none (and fails below for lack of `from`).
  const node = entry.value;
  if (node !== undefined && !isMap(node)) {
    fail(
      ctx,
      node,
      `layer '${entry.key}' must be a map of directives, found ${kindOf(node)}`,
      "indent the directives under the layer name: 'name:\\n  from: ...'",
    );
  }
  const directives = node ? mapEntries(ctx, node, `layer '${entry.key}'`) : [];

  const layer = emptyLayer(ctx, entry);
  const legacy: Import[] = [];
  for (const d of directives) {
    checkDirectiveName(ctx, d);
    layer.directivePos[d.key] = d.pos;
    const at: NodeContext = { ...ctx, directive: d.key };
    if (d.key === 'import') legacy.push(...decodeImports(at, d.value, opts.dir));
    else if (d.key === 'from') layer.from = decodeFrom(at, d.value, d.pos, opts.dir);
    else DECODERS[d.key as keyof typeof DECODERS](at, d, layer, opts.dir);
  }

  normalise(ctx, layer, legacy, opts);
  return layer;
}

/** A layer with every default filled in; `from` is filled by the directive. */
function emptyLayer(ctx: NodeContext, entry: MapEntry): Layer {
  return {
    name: entry.key,
    file: ctx.src.file,
    pos: entry.pos,
    from: undefined as unknown as Layer['from'],
    imports: [],
    legacyImport: false,
    overlayDirs: [],
    run: [],
    buildEnv: {},
    environment: [],
    volumes: [],
    labels: {},
    generateLabels: [],
    buildOnly: false,
    binds: [],
    annotations: {},
    os: 'linux',
    arch: hostArch(),
    directivePos: {},
  };
}

function checkDirectiveName(ctx: NodeContext, d: MapEntry): void {
  if (INTERNAL_FLAGS.includes(d.key)) {
    fail(
      ctx,
      d.pos,
      `unknown directive ${d.key}`,
      `'${d.key}' is set internally by stacker and cannot be written in a stacker file; ` +
        "use 'import:' for the legacy /stacker layout",
    );
  }
  if (!(DIRECTIVES as readonly string[]).includes(d.key)) {
    fail(ctx, d.pos, `unknown directive ${d.key}`, suggest(d.key, DIRECTIVES));
  }
}

type Decoder = (ctx: NodeContext, d: MapEntry, layer: Layer, dir: string) => void;
const command = (ctx: NodeContext, v: YamlNode | undefined) =>
  v === undefined ? undefined : decodeCommand(ctx, v);
const record = (ctx: NodeContext, d: MapEntry) => Object.fromEntries(textMap(ctx, d.value, d.key));

/** How each directive but `from` and `import` fills the layer (`from`/`import` need more). */
const DECODERS: Record<Exclude<Directive, 'from' | 'import'>, Decoder> = {
  imports: (c, d, l, dir) => (l.imports = decodeImports(c, d.value, dir)),
  overlay_dirs: (c, d, l, dir) => (l.overlayDirs = decodeOverlayDirs(c, d.value, dir)),
  run: (c, d, l) => (l.run = decodeScript(c, d.value)),
  generate_labels: (c, d, l) => (l.generateLabels = decodeScript(c, d.value)),
  cmd: (c, d, l) => (l.cmd = command(c, d.value)),
  entrypoint: (c, d, l) => (l.entrypoint = command(c, d.value)),
  full_command: (c, d, l) => (l.fullCommand = command(c, d.value)),
  build_env_passthrough: (c, d, l) =>
    (l.buildEnvPassthrough = d.value === undefined ? undefined : decodePassthrough(c, d.value)),
  build_env: (c, d, l) => (l.buildEnv = record(c, d)),
  environment: (c, d, l) => (l.environment = textMap(c, d.value, d.key)),
  labels: (c, d, l) => (l.labels = record(c, d)),
  annotations: (c, d, l) => (l.annotations = record(c, d)),
  volumes: (c, d, l) => (l.volumes = textList(c, d.value, d.key)),
  working_dir: (c, d, l) => (l.workingDir = textValue(c, d.value, `'${d.key}'`) || undefined),
  runtime_user: (c, d, l) => (l.runtimeUser = textValue(c, d.value, `'${d.key}'`) || undefined),
  build_only: (c, d, l) => (l.buildOnly = boolValue(c, d.value, d.key)),
  binds: (c, d, l, dir) => (l.binds = decodeBinds(c, d.value, dir)),
  os: (c, d, l) => (l.os = decodePlatform(c, d.value, d.key, d.pos)),
  arch: (c, d, l) => (l.arch = decodePlatform(c, d.value, d.key, d.pos)),
  bom: (c, d) =>
    warnAt(c, d.pos, "'bom' is deprecated and ignored (stacker drops it after 2026-03-10)"),
};

/** Spec 1.3: the base is required, `import` folds into `imports`, hashes, name rules. */
function normalise(ctx: NodeContext, layer: Layer, legacy: Import[], opts: LayerOptions): void {
  if (!layer.from) {
    fail(
      { ...ctx, directive: 'from' },
      layer.directivePos.from ?? layer.pos,
      'invalid layer: no base (from directive)',
      "add e.g. 'from: {type: docker, url: docker://alpine:3.20}'",
    );
  }
  foldLegacyImport(ctx, layer, legacy);
  if (opts.requireHash) checkRemoteHashes(ctx, layer);

  if (!layer.buildOnly && !OCI_REF_NAME.test(layer.name)) {
    fail(
      ctx,
      layer.pos,
      `layer name '${layer.name}' is not a valid OCI reference name`,
      'the name becomes the image tag in the OCI layout: use letters and digits separated by ' +
        "single '.', '_', '-', '+', '@' or '/', or mark the layer 'build_only: true'",
    );
  }
}

/** The deprecated `import` is warned about, and replaces `imports` when it has entries. */
function foldLegacyImport(ctx: NodeContext, layer: Layer, legacy: Import[]): void {
  const at = layer.directivePos.import;
  if (!at) return;
  const here: NodeContext = { ...ctx, directive: 'import' };
  warnAt(
    here,
    at,
    "'import' is deprecated and unsupported after 2025-01-01: use 'imports', whose files " +
      'appear under /stacker/imports instead of /stacker',
  );
  if (legacy.length > 0 && layer.imports.length > 0) {
    fail(
      here,
      at,
      `layer '${layer.name}' cannot have both 'import' and 'imports'`,
      "move the 'import' entries into 'imports' (files then appear under /stacker/imports)",
    );
  }
  if (legacy.length > 0) {
    layer.imports = legacy;
    layer.legacyImport = true;
  }
}

/**
 * `--require-hash`: http(s) imports need a hash. Stacker checks only `imports` (entries under
 * the deprecated `import:` escape the check); we check both, since either downloads the same.
 */
function checkRemoteHashes(ctx: NodeContext, layer: Layer): void {
  for (const imp of layer.imports) {
    if (!/^https?:\/\//i.test(imp.path) || imp.hash !== undefined) continue;
    fail(
      { ...ctx, directive: layer.legacyImport ? 'import' : 'imports' },
      imp.pos ?? layer.pos,
      `Remote import needs a hash in yaml for path: ${imp.path}`,
      "--require-hash is set: add 'hash: <sha256 hex>' to this import",
    );
  }
}

/**
 * Name rules that hold for every layer: `:` is the overlayfs lowerdir separator and the name
 * is a directory name under the roots and stacker dirs, so it must be a safe relative path.
 */
function checkNameSyntax(ctx: NodeContext, entry: MapEntry): void {
  const name = entry.key;
  if (name.includes(':')) {
    fail(
      ctx,
      entry.pos,
      `using ':' in the layer name (${name}) is forbidden due to overlay constraints`,
      "use '-' or '_' instead",
    );
  }
  const segments = name.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..') || name.includes('\0')) {
    fail(
      ctx,
      entry.pos,
      `layer name '${name}' cannot be used as a directory name`,
      "layer names are relative paths: no empty, '.' or '..' segments and no leading '/'",
    );
  }
}
