/**
 * Turns the generator's options into one validated layer: the name and the directives, in the
 * order they are written. Everything a user can get wrong is refused here, before any file
 * changes, with the option to fix in the hint.
 */
import { generatorError } from '../shared/errors';
import type { BaseType, StackerFileGeneratorSchema } from './schema';

/** `from` as written in the file: `url` only for oci/tar/docker, `tag` only for built. */
export interface LayerBase {
  type: BaseType;
  url?: string;
  tag?: string;
}

/** The directives of the new layer; absent keys are not written. */
export interface LayerBody {
  from: LayerBase;
  imports?: string[];
  run?: string;
}

export interface NewLayer {
  name: string;
  body: LayerBody;
}

/** What the target file already holds, for defaults and checks. */
export interface FileFacts {
  /** Workspace-relative path of the stacker.yaml, for messages. */
  file: string;
  /** Its top-level keys in order (`config` included); empty for a new file. */
  keys: string[];
}

/**
 * OCI reference names (image-spec `org.opencontainers.image.ref.name`), which layer names
 * become as tags: alphanumeric components joined by one of `-._:@+` or `--`, optionally in
 * `/`-separated groups. `:` passes this pattern but is refused separately (see below).
 */
const OCI_REF_NAME =
  /^[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*(\/[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** Validates the options and fills defaults; throws a located error for bad input. */
export function buildLayer(options: StackerFileGeneratorSchema, facts: FileFacts): NewLayer {
  const name = options.layer?.trim() || defaultLayerName(options.directory, facts);
  checkLayerName(name, facts);
  // The layer's own name is left out so that a second run picks the same default base.
  const layers = facts.keys.filter((key) => key !== 'config' && key !== name);
  const body: LayerBody = { from: buildBase(options, name, layers, facts) };

  const imports = (options.imports ?? []).map((path) => path.trim()).filter((p) => p !== '');
  if (imports.length > 0) body.imports = imports;

  const run = options.run ?? '';
  if (run.trim() !== '') body.run = run.endsWith('\n') ? run : `${run}\n`;
  return { name, body };
}

/** The directory's last segment: `images/web` -> `web`. */
function defaultLayerName(directory: string, facts: FileFacts): string {
  const last = directory
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .pop();
  if (!last) {
    throw generatorError('no layer name given', { file: facts.file }, 'pass --layer=<name>');
  }
  return last;
}

/** Stacker's rules for layer names (spec 1.3), checked when the file is written, not built. */
export function checkLayerName(name: string, facts: FileFacts): void {
  const where = { file: facts.file };
  if (name === 'config') {
    throw generatorError(
      "'config' cannot be a layer name: it is the stacker file's settings key",
      where,
      'choose another --layer name',
    );
  }
  if (name.includes(':')) {
    throw generatorError(
      `layer name '${name}' contains ':', which overlayfs uses to separate layers`,
      where,
      "use '-' or '_' instead",
    );
  }
  if (!OCI_REF_NAME.test(name)) {
    throw generatorError(
      `layer name '${name}' is not a valid OCI reference name (it becomes the image tag)`,
      where,
      "use letters and digits separated by single '.', '_', '-', '+', '@' or '/'",
    );
  }
}

/** `from`, with the default base and the url/tag each base type needs. */
function buildBase(
  options: StackerFileGeneratorSchema,
  name: string,
  layers: string[],
  facts: FileFacts,
): LayerBase {
  const where = { file: facts.file };
  const type: BaseType = options.baseType ?? (layers.length > 0 ? 'built' : 'scratch');
  const url = options.baseUrl?.trim() || undefined;
  const tag = options.baseTag?.trim() || (type === 'built' ? layers.at(-1) : undefined);

  if (tag !== undefined && type !== 'built') {
    throw generatorError(`--baseTag is only used with baseType 'built', not '${type}'`, where);
  }
  if (type === 'built' || type === 'scratch') {
    if (url !== undefined) {
      throw generatorError(`--baseUrl is not used with baseType '${type}'`, where);
    }
    if (type === 'scratch') return { type };
    if (tag === undefined) {
      throw generatorError(
        "baseType 'built' needs the layer to build on",
        where,
        '--baseTag=<layer name>',
      );
    }
    if (tag === name) {
      throw generatorError(`layer '${name}' cannot be built on itself`, where, 'fix --baseTag');
    }
    // Without a config section there are no prerequisites: the layer must be in this file.
    if (!layers.includes(tag) && !facts.keys.includes('config')) {
      throw generatorError(
        `no layer '${tag}' to build on in ${facts.file}`,
        where,
        layers.length > 0
          ? `use one of ${layers.join(', ')}, or list the file that defines it under ` +
              'config.prerequisites'
          : 'a built base is a layer of this file or of a file listed under config.prerequisites',
      );
    }
    return { type, tag };
  }
  checkBaseUrl(type, url, facts);
  return { type, url };
}

/** The url shapes stacker accepts for each remote or local base (spec 1.4). */
function checkBaseUrl(type: BaseType, url: string | undefined, facts: FileFacts): asserts url {
  const examples: Record<string, string> = {
    oci: '--baseUrl=../base/oci:base (an OCI layout and a tag)',
    tar: '--baseUrl=rootfs.tar.gz (a path, an http(s) url or stacker://<layer>/<path>)',
    docker: '--baseUrl=docker://alpine:3.20 (a containers/image transport reference)',
  };
  const where = { file: facts.file };
  if (url === undefined) {
    throw generatorError(`baseType '${type}' needs --baseUrl`, where, examples[type]);
  }
  if (type === 'oci' && !url.includes(':')) {
    throw generatorError(`oci base '${url}' names no tag`, where, examples.oci);
  }
  if (type === 'docker' && !/^[a-z][a-z0-9-]*:/.test(url)) {
    throw generatorError(`docker base '${url}' has no transport`, where, examples.docker);
  }
}
