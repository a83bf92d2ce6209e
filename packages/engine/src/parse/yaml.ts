/**
 * A thin, position-aware view of a parsed YAML document. The validators never see plain JS
 * values: they walk `yaml` nodes so that every error can name the line and column of the node
 * it is about.
 *
 * YAML semantics follow stacker's parser (gopkg.in/yaml.v2, YAML 1.1): `yes/no/on/off/y/n` are
 * booleans, `0777` is octal, `<<` merge keys work. Two deliberate differences:
 * - a key repeated in one map is an error naming both lines (yaml.v2 silently keeps one);
 * - an alias to an anchor that does not exist is an error (yaml.v2 rejects it too, but without
 *   a position).
 */
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Scalar,
  visit,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { formatLocation, StackerError } from '../errors';
import type { SourcePos } from './types';

/** A parsed document together with what is needed to locate its nodes. */
export interface YamlSource {
  /** Absolute path of the file, for error locations. */
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Each alias's target, computed on first use in one pass over the document. */
  aliasTargets?: Map<Alias, YamlNode | undefined>;
  /** Entries of maps already read: a map aliased many times is read once. */
  entries?: WeakMap<YAMLMap, MapEntry[]>;
}

/** A node after alias resolution: what a validator inspects. */
export type YamlNode = Scalar | YAMLMap | YAMLSeq;

/** Where an error is reported: the file, and the layer and directive when known. */
export interface NodeContext {
  src: YamlSource;
  layer?: string;
  directive?: string;
  /** Receives located warnings (ignored keys, deprecations). */
  warn?: (message: string) => void;
}

/** One entry of a YAML map with its key as text. */
export interface MapEntry {
  /** The key as written (source text for non-string scalars: `1` -> "1", `yes` -> "yes"). */
  key: string;
  /** False when YAML resolved the key to something else than a string (`1`, `yes`, `~`). */
  keyIsString: boolean;
  /** The value after alias resolution; undefined for an empty (null) value. */
  value: YamlNode | undefined;
  /** Position of the key. */
  pos: SourcePos;
}

/** `<<` merges of merges are followed this deep; deeper nesting is rejected, not recursed. */
const MAX_MERGE_DEPTH = 16;

const HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'YAML does not allow tabs for indentation; indent with spaces',
  MULTIPLE_DOCS: "a stacker file is a single YAML document; remove the extra '---'",
  RESOURCE_EXHAUSTION: 'the document nests too deeply to be a stacker file',
  BAD_INDENT: 'check the indentation of this line against the lines above it',
  MISSING_CHAR: "check the YAML syntax here: an unclosed quote or bracket, or a key without ':'?",
};

/**
 * Parses `text` as YAML 1.1. Throws a located StackerError (`couldn't parse stacker file ...`)
 * for any syntax error; warnings from the YAML parser (unknown tags, ...) go to `warn`.
 * Does not look at the content; that is the validators' job.
 */
export function parseYaml(text: string, file: string, warn?: (m: string) => void): YamlSource {
  rejectControlCharacters(text, file);
  const lines = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      version: '1.1',
      uniqueKeys: false,
      lineCounter: lines,
      prettyErrors: true,
    });
  } catch (err) {
    // The parser reports most overflows as errors itself; this is the last line of defence.
    const detail = err instanceof Error ? err.message : String(err);
    throw new StackerError(
      `couldn't parse stacker file ${file}: ${detail}`,
      { file, line: 1, column: 1 },
      HINTS.RESOURCE_EXHAUSTION,
      { cause: err },
    );
  }

  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    const detail = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new StackerError(
      `couldn't parse stacker file ${file}: ${detail}`,
      { file, line: at.line, column: at.col },
      HINTS[first.code] ?? 'check the YAML syntax around this position',
    );
  }
  for (const w of doc.warnings) {
    const at = w.linePos?.[0] ?? lines.linePos(w.pos[0]);
    warn?.(`${file}:${at.line}:${at.col}: ${w.message.split('\n')[0]}`);
  }
  return { file, doc, lines };
}

/**
 * YAML forbids C0 control characters other than tab, CR and LF (and DEL); yaml.v2 rejects
 * them, the `yaml` package does not. Finding them first also turns binary files into a clear
 * error instead of a confusing one about the document's shape.
 */
function rejectControlCharacters(text: string, file: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const control = (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f;
    if (!control && c !== 0xfffe && c !== 0xffff) continue;
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    throw new StackerError(
      `couldn't parse stacker file ${file}: control character 0x${c.toString(16)} is not allowed`,
      { file, line, column: i - before.lastIndexOf('\n') },
      'stacker files are YAML text; is this a binary file?',
    );
  }
}

/** 1-based position of a node's first character (line 1, column 1 when it has none). */
export function posOf(src: YamlSource, node: { range?: unknown } | null | undefined): SourcePos {
  const range = node?.range;
  if (!Array.isArray(range) || typeof range[0] !== 'number') return { line: 1, column: 1 };
  const at = src.lines.linePos(range[0]);
  return { line: at.line, column: at.col };
}

/** Throws a StackerError located at `node` (or at `pos` when given) in `ctx`. */
export function fail(
  ctx: NodeContext,
  at: { range?: unknown } | SourcePos | null | undefined,
  message: string,
  hint?: string,
): never {
  const pos = at && 'line' in at ? (at as SourcePos) : posOf(ctx.src, at as { range?: unknown });
  throw new StackerError(
    message,
    {
      file: ctx.src.file,
      line: pos.line,
      column: pos.column,
      layer: ctx.layer,
      directive: ctx.directive,
    },
    hint,
  );
}

/** Sends `message` to `ctx.warn`, prefixed with its location. */
export function warnAt(ctx: NodeContext, pos: SourcePos, message: string): void {
  const where = formatLocation({
    file: ctx.src.file,
    line: pos.line,
    column: pos.column,
    layer: ctx.layer,
    directive: ctx.directive,
  });
  ctx.warn?.(`${where}: ${message}`);
}

/** Follows an alias to the node it names; undefined for null/empty values. */
export function resolveNode(ctx: NodeContext, node: unknown): YamlNode | undefined {
  let current = node;
  if (isAlias(current)) {
    const target = aliasTargets(ctx.src).get(current);
    if (!target) {
      fail(ctx, current, `alias *${current.source} refers to no anchor`, 'define &name first');
    }
    current = target;
  }
  if (current === null || current === undefined) return undefined;
  if (isScalar(current) && current.value === null) return undefined;
  if (isScalar(current) || isMap(current) || isSeq(current)) return current;
  return undefined;
}

/**
 * Maps every alias to the last node anchored with its name before it, in one pass over the
 * document. (`Alias.resolve` without a context walks the whole document for every alias,
 * which is quadratic on large files.)
 */
function aliasTargets(src: YamlSource): Map<Alias, YamlNode | undefined> {
  if (src.aliasTargets) return src.aliasTargets;
  const targets = new Map<Alias, YamlNode | undefined>();
  const anchors = new Map<string, YamlNode>();
  visit(src.doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node as YamlNode);
    },
  });
  src.aliasTargets = targets;
  return targets;
}

/** YAML-flavoured name of a node's kind, for messages: string, int, bool, map, list, ... */
export function kindOf(node: YamlNode | undefined): string {
  if (node === undefined) return 'null';
  if (isMap(node)) return 'map';
  if (isSeq(node)) return 'list';
  const value = node.value;
  if (typeof value === 'number') return isIntScalar(node) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (value instanceof Date) return 'timestamp';
  return 'scalar';
}

/** Source text of a node, shortened, for quoting it in a message. */
export function quote(node: YamlNode | undefined): string {
  if (node === undefined) return 'null';
  const text = isScalar(node) ? scalarText(node) : String(node);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * A scalar as yaml.v2 stores it into a string field: strings as they are, null as "", and any
 * other scalar as its source text (`1.0` -> "1.0", `0777` -> "0777", `yes` -> "yes").
 */
export function scalarText(node: Scalar): string {
  const value = node.value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return node.source ?? String(value);
}

const INT_SOURCE = /^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*(:[0-5]?[0-9])*)$/;

/** True for a YAML 1.1 integer scalar (`12`, `0755`, `0x1f`, `-1`), false for `1.0`. */
export function isIntScalar(node: Scalar): boolean {
  if (typeof node.value !== 'number' || !Number.isSafeInteger(node.value)) return false;
  if (node.tag === 'tag:yaml.org,2002:int') return true;
  return node.tag === undefined && INT_SOURCE.test(node.source ?? '');
}

/**
 * The entries of a map in file order, `<<` merges applied (explicit keys win, earlier merge
 * sources win over later ones, merged entries take the place of the `<<` key). A key written
 * twice is an error naming both lines. `what` names the map in messages ("layer 'x'").
 */
export function mapEntries(
  ctx: NodeContext,
  map: YAMLMap,
  what: string,
  onDuplicate: DuplicateHandler = duplicateKey,
  depth = 0,
): MapEntry[] {
  const known = ctx.src.entries?.get(map);
  if (known) return known;
  if (depth > MAX_MERGE_DEPTH) {
    fail(ctx, map, `'<<' merges nest too deeply in ${what}`, 'does a map merge itself?');
  }
  const explicit = new Map<string, MapEntry>();
  const slots: (MapEntry | MapEntry[])[] = [];

  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key;
    if (isScalar(keyNode) && isMergeKey(keyNode)) {
      slots.push(mergedEntries(ctx, pair.value, what, onDuplicate, depth));
      continue;
    }
    const entry = toEntry(ctx, keyNode, pair.value, what);
    const earlier = explicit.get(entry.key);
    if (earlier) onDuplicate(ctx, what, entry, earlier);
    explicit.set(entry.key, entry);
    slots.push(entry);
  }

  // Flatten, letting explicit keys and earlier merges win.
  const seen = new Set(explicit.keys());
  const out: MapEntry[] = [];
  for (const slot of slots) {
    if (!Array.isArray(slot)) {
      out.push(slot);
      continue;
    }
    for (const entry of slot) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      out.push(entry);
    }
  }
  ctx.src.entries ??= new WeakMap();
  ctx.src.entries.set(map, out);
  return out;
}

function isMergeKey(node: Scalar): boolean {
  return typeof node.value === 'symbol' && node.value.description === '<<';
}

function toEntry(ctx: NodeContext, keyNode: unknown, value: unknown, what: string): MapEntry {
  const key = resolveNode(ctx, keyNode);
  if (key !== undefined && !isScalar(key)) {
    fail(ctx, keyNode as YamlNode, `a ${kindOf(key)} cannot be a key in ${what}`, 'use a string');
  }
  return {
    key: key ? scalarText(key) : '',
    keyIsString: key !== undefined && typeof key.value === 'string',
    value: resolveNode(ctx, value),
    pos: posOf(ctx.src, keyNode as YamlNode),
  };
}

function mergedEntries(
  ctx: NodeContext,
  value: unknown,
  what: string,
  onDuplicate: DuplicateHandler,
  depth: number,
) {
  const source = resolveNode(ctx, value);
  const maps = source && isSeq(source) ? source.items.map((i) => resolveNode(ctx, i)) : [source];
  const out: MapEntry[] = [];
  for (const m of maps) {
    if (!m || !isMap(m)) {
      fail(
        ctx,
        m ?? (value as YamlNode),
        `'<<' in ${what} must merge a map or a list of maps`,
        "write '<<: *anchor' where &anchor names a map",
      );
    }
    out.push(...mapEntries(ctx, m, what, onDuplicate, depth + 1));
  }
  return out;
}

/** Reports a key written twice in one map; `again` is the later occurrence. */
export type DuplicateHandler = (
  ctx: NodeContext,
  what: string,
  again: MapEntry,
  first: MapEntry,
) => never;

function duplicateKey(ctx: NodeContext, what: string, again: MapEntry, first: MapEntry): never {
  fail(
    ctx,
    again.pos,
    `duplicate key '${again.key}' in ${what}: first at line ${first.pos.line}, again at line ` +
      `${again.pos.line}`,
    'YAML keys must be unique in a map; stacker would silently keep only one; merge the two',
  );
}
