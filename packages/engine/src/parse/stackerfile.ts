/**
 * One stacker file, text to model (spec 1.1): substitute, parse YAML 1.1, split `config` from
 * the layers, validate and normalise each layer.
 *
 * Known shortcoming: substitution happens on the raw text, so when a substituted value spans
 * several lines, the line numbers of later YAML errors refer to the substituted text. Mapping
 * them back would need an offset map from `substitute`.
 */
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { StackerError } from '../errors';
import { parseLayer } from './layer';
import { substitute } from './substitute';
import type { ParseOptions, SourcePos, StackerFile } from './types';
import {
  type DuplicateHandler,
  fail,
  kindOf,
  type MapEntry,
  mapEntries,
  type NodeContext,
  parseYaml,
  posOf,
  resolveNode,
  scalarText,
  warnAt,
  type YamlNode,
} from './yaml';

/**
 * Parses the raw `text` of the stacker file at `path` (substitutions applied here, from
 * `opts.substitutions`). Relative paths in the file resolve against the directory of `path`.
 * Every problem is a StackerError naming the file, line and column. Does not read
 * prerequisites; `loadStackerFiles` does.
 */
export function parseStackerText(text: string, path: string, opts: ParseOptions): StackerFile {
  const file = resolve(path);
  const dir = dirname(file);

  const substituted = substitute(text, opts.substitutions, {
    file,
    warn: opts.warn,
    debug: opts.debug,
    missingValue: opts.missingValue,
  });
  const src = parseYaml(substituted, file, opts.warn);
  const ctx: NodeContext = { src, warn: opts.warn };
  const result: StackerFile = {
    path: file,
    dir,
    text: substituted,
    layers: [],
    prerequisites: [],
    prerequisitesPos: [],
  };

  // An empty document (or only comments) is a file without layers.
  const root = resolveNode(ctx, src.doc.contents);
  if (root === undefined) return result;
  if (!isMap(root)) {
    fail(
      ctx,
      root,
      `couldn't parse stacker file ${file}: expected a map of layer names, found ${kindOf(root)}`,
      "a stacker file maps layer names to their directives: 'name:\\n  from: ...'",
    );
  }

  for (const entry of mapEntries(ctx, root, 'the stacker file', duplicateLayer)) {
    if (!entry.keyIsString) notAString(ctx, entry);
    if (entry.key === 'config') {
      readConfig({ ...ctx, directive: 'config' }, entry, result);
    } else {
      result.layers.push(parseLayer(ctx, entry, { dir, requireHash: opts.requireHash }));
    }
  }
  return result;
}

/**
 * Reads and parses the stacker file at `path` (made absolute). Stacker also fetches files
 * given as `http(s)://` urls; we do not (this API is synchronous), and say so.
 */
export function loadStackerFile(path: string, opts: ParseOptions): StackerFile {
  if (path.includes('://')) {
    throw new StackerError(
      `stacker files given as urls are not supported: ${path}`,
      { file: path },
      'download the file and build the local copy',
    );
  }
  const file = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new StackerError(
      `couldn't read stacker file: ${file}: ${(err as Error).message}`,
      { file },
      'check the path given with -f / --stacker-file',
      { cause: err },
    );
  }
  return parseStackerText(decodeUtf8(bytes, file), file, opts);
}

/** The file's text; invalid UTF-8 is an error at the first bad byte (yaml.v2 rejects it too). */
function decodeUtf8(bytes: Buffer, file: string): string {
  const text = bytes.toString('utf8');
  if (isUtf8(bytes)) return text;
  const at = text.indexOf('\uFFFD');
  const before = text.slice(0, Math.max(at, 0));
  throw new StackerError(
    `couldn't parse stacker file ${file}: invalid UTF-8`,
    { file, line: before.split('\n').length, column: at - before.lastIndexOf('\n') },
    'stacker files are UTF-8 text; is this a binary file?',
  );
}

/** A layer name (top-level key) written twice: name both places, as the multi-file check. */
const duplicateLayer: DuplicateHandler = (ctx, what, again, first) => {
  const where = (p: SourcePos) => `${ctx.src.file}:${p.line}:${p.column}`;
  const message =
    again.key === 'config'
      ? `duplicate key 'config' in ${what}: first at line ${first.pos.line}`
      : `duplicate layer name: both ${where(first.pos)} and ${where(again.pos)} have ${again.key}`;
  fail(ctx, again.pos, message, 'each layer name (and config) may appear once; rename one');
};

function notAString(ctx: NodeContext, entry: MapEntry): never {
  const key = entry.key === '' ? 'null' : entry.key;
  fail(
    ctx,
    entry.pos,
    `cannot cast ${key} to string`,
    `YAML 1.1 reads '${key}' as a ${entry.key === '' ? 'null' : 'bool or number'}; ` +
      `quote the layer name: '"${key}":'`,
  );
}

/**
 * `config` (spec 1.9): only `prerequisites` is read (unknown keys are ignored with a warning,
 * stacker ignores them silently); entries are made absolute against the file's directory,
 * `://` urls are kept as written.
 */
function readConfig(ctx: NodeContext, entry: MapEntry, result: StackerFile): void {
  function bad(node: YamlNode | undefined): never {
    return fail(
      ctx,
      node ?? entry.pos,
      "cannot interpret 'config' value, note the 'config' section in the stackerfile cannot " +
        'contain a layer definition',
      "write 'config:\\n  prerequisites:\\n    - ../other/stacker.yaml'",
    );
  }

  const node = entry.value;
  if (node === undefined) return;
  if (!isMap(node)) bad(node);

  for (const field of mapEntries(ctx, node, "'config'")) {
    if (field.key !== 'prerequisites') {
      warnAt(ctx, field.pos, `unknown key '${field.key}' in 'config' is ignored`);
      continue;
    }
    if (field.value === undefined) continue;
    if (!isSeq(field.value)) bad(field.value);
    for (const raw of field.value.items) {
      const item = resolveNode(ctx, raw);
      if (item === undefined || !isScalar(item) || scalarText(item) === '') {
        bad(item ?? (raw as YamlNode));
      }
      const path = scalarText(item);
      result.prerequisites.push(path.includes('://') ? path : resolve(result.dir, path));
      result.prerequisitesPos!.push(posOf(ctx.src, item));
    }
  }
}
