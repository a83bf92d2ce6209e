/**
 * Reading a stacker.yaml and appending a layer to it without disturbing what is there.
 *
 * YAML follows the engine's parser: version 1.1, so that a value such as `yes` or `0755` that
 * YAML 1.1 would read as a boolean or an octal number is quoted when written.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  Document,
  isMap,
  isNode,
  isScalar,
  LineCounter,
  parseDocument,
  Scalar,
  type YAMLMap,
} from 'yaml';
import { generatorError } from '../shared/errors';
import type { FileFacts, NewLayer } from './layer';

const YAML_VERSION = '1.1';

/** The parsed file, with its top-level map (undefined for an empty or comment-only file). */
interface ParsedFile {
  doc: Document.Parsed;
  root: YAMLMap | undefined;
  lines: LineCounter;
}

/** What the caller needs of an existing file: its top-level keys, in order. */
export function readFileFacts(text: string, file: string): FileFacts {
  const { root } = parseStackerYaml(text, file);
  return { file, keys: root ? topLevelKeys(root) : [] };
}

/**
 * `text` with `layer` appended as its last top-level key, and whether anything changed.
 *
 * The layer is rendered on its own and added as text after the existing content, so every
 * byte already in the file (comments, indentation, quoting) stays as it is. The result is
 * parsed back and must hold exactly the old layers plus the new one; a file where plain
 * appending does not give that (a flow-style `{...}` map, a `...` end marker) is re-written
 * through the yaml Document API instead, which keeps comments and order but may re-indent.
 *
 * A layer of the same name is refused, unless its directives equal the new layer's: then the
 * file is returned unchanged, so running the generator twice is harmless.
 */
export function appendLayer(
  text: string,
  file: string,
  layer: NewLayer,
): { text: string; changed: boolean } {
  const parsed = parseStackerYaml(text, file);
  const existing = parsed.root?.items.find((pair) => keyText(pair.key) === layer.name);
  if (existing) {
    const current = isNode(existing.value) ? existing.value.toJS(parsed.doc) : null;
    if (isDeepStrictEqual(current, layer.body)) return { text, changed: false };
    const pos = isScalar(existing.key) ? existing.key.range?.[0] : undefined;
    const at = pos === undefined ? undefined : parsed.lines.linePos(pos);
    throw generatorError(
      `layer '${layer.name}' already exists, with other directives`,
      { file, line: at?.line, column: at?.col },
      'choose another --layer name, or edit that layer in the file',
    );
  }

  // What the file must read as afterwards, taken before the fallback edits the document.
  const expected: ExpectedContent = {
    keys: [...(parsed.root ? topLevelKeys(parsed.root) : []), layer.name],
    values: { ...(parsed.doc.toJS() ?? {}), [layer.name]: layer.body },
  };

  const appended = appendAsText(text, renderLayer(layer));
  if (readsAs(appended, expected)) return { text: appended, changed: true };

  const rewritten = appendThroughDocument(parsed, layer);
  if (!readsAs(rewritten, expected)) {
    throw generatorError(`could not add layer '${layer.name}' to this file`, { file });
  }
  return { text: rewritten, changed: true };
}

/** Parses with positions; a syntax error is reported at its line and column. */
function parseStackerYaml(text: string, file: string): ParsedFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: YAML_VERSION, lineCounter: lines });
  const [error] = doc.errors;
  if (error) {
    const at = error.linePos?.[0];
    throw generatorError(
      `cannot read the existing stacker file: ${firstLine(error.message)}`,
      { file, line: at?.line, column: at?.col },
      'fix the YAML first; the generator only appends to a file it can parse',
    );
  }
  if (doc.contents === null || doc.contents === undefined) return { doc, root: undefined, lines };
  if (!isMap(doc.contents)) {
    throw generatorError(
      'the existing file is not a stacker file: expected a map of layer names at the top',
      { file },
    );
  }
  return { doc, root: doc.contents, lines };
}

/** The layer as YAML text ending in a newline; `run` is written as a `|` block. */
function renderLayer(layer: NewLayer): string {
  const doc = new Document({ [layer.name]: layer.body }, { version: YAML_VERSION });
  const run = doc.getIn([layer.name, 'run'], true);
  if (run instanceof Scalar) run.type = Scalar.BLOCK_LITERAL;
  return doc.toString();
}

/** `text`, a blank line when it has content, then `addition`; keeps CRLF files CRLF. */
function appendAsText(text: string, addition: string): string {
  const crlf = text.includes('\r\n');
  let result = text;
  if (result.length > 0 && !result.endsWith('\n')) result += '\n';
  if (result.trim().length > 0) result += '\n';
  result += addition;
  return crlf ? result.replace(/\r?\n/g, '\r\n') : result;
}

/** Fallback: the layer added to the parsed document, which is then printed whole. */
function appendThroughDocument(parsed: ParsedFile, layer: NewLayer): string {
  // Widened from Document.Parsed: the new pair is not a parsed node.
  const doc = parsed.doc as Document;
  const root = parsed.root ?? (doc.createNode({}) as YAMLMap);
  const value = doc.createNode(layer.body);
  const run = isMap(value) ? value.get('run', true) : undefined;
  if (run instanceof Scalar) run.type = Scalar.BLOCK_LITERAL;
  root.add(doc.createPair(layer.name, value));
  doc.contents = root;
  return doc.toString();
}

/** The top-level keys in order, and the whole file as plain data. */
interface ExpectedContent {
  keys: string[];
  values: Record<string, unknown>;
}

/** True when `text` parses to exactly the expected keys (in order) and values. */
function readsAs(text: string, expected: ExpectedContent): boolean {
  const after = parseDocument(text, { version: YAML_VERSION });
  if (after.errors.length > 0 || !isMap(after.contents)) return false;
  if (!isDeepStrictEqual(topLevelKeys(after.contents), expected.keys)) return false;
  return isDeepStrictEqual(after.toJS(), expected.values);
}

function topLevelKeys(root: YAMLMap): string[] {
  return root.items.map((pair) => keyText(pair.key));
}

/** A key as the engine names it: the source text of a scalar (`1`, `yes` stay as written). */
function keyText(key: unknown): string {
  if (isScalar(key)) return key.source ?? String(key.value);
  return String(key);
}

/** The yaml library's message without its own position and source excerpt. */
function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}
