/**
 * Readers for the layer directives that have their own syntax (spec 1.6-1.8): scripts,
 * commands, binds, overlay dirs, passthrough regexes and the platform. Each returns plain data
 * or throws a StackerError located at the offending node.
 */
import { posix } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { absolutePath } from './imports';
import { ShellWordsError, splitShellWords } from './shellwords';
import type { Bind, OverlayDir, SourcePos } from './types';
import { boolValue, listItems, textList, textValue } from './values';
import {
  fail,
  kindOf,
  mapEntries,
  type NodeContext,
  posOf,
  quote,
  warnAt,
  type YamlNode,
} from './yaml';

/** `run` / `generate_labels`: a string (one line) or a list of strings. */
export function decodeScript(ctx: NodeContext, node: YamlNode | undefined): string[] {
  if (node === undefined) return [];
  if (isScalar(node) && typeof node.value === 'string') return [node.value];
  if (!isSeq(node)) fail(ctx, node, `unknown directive type: ${kindOf(node)}`, STRING_HINT);
  return listItems(ctx, node, ctx.directive ?? 'run').map((item) => {
    if (item && isScalar(item) && typeof item.value === 'string') return item.value;
    return fail(ctx, item ?? node, `unknown run array type: ${kindOf(item)}`, STRING_HINT);
  });
}

const STRING_HINT = "expected a string or a list of strings; quote values like 'yes' or '1'";

/**
 * `cmd` / `entrypoint` / `full_command`: a list is used as is; a string is split into words
 * with shell quoting rules (no expansion).
 */
export function decodeCommand(ctx: NodeContext, node: YamlNode | undefined): string[] {
  if (node === undefined) return [];
  if (isScalar(node) && typeof node.value === 'string') {
    try {
      return splitShellWords(node.value);
    } catch (err) {
      if (!(err instanceof ShellWordsError)) throw err;
      fail(ctx, node, `${err.message} in '${ctx.directive}': ${quote(node)}`, 'close the quote');
    }
  }
  return decodeScript(ctx, node);
}

/** `build_env_passthrough`: regexes matched against whole variable names. */
export function decodePassthrough(ctx: NodeContext, node: YamlNode | undefined): string[] {
  const list = textList(ctx, node, 'build_env_passthrough');
  const items = isSeq(node) ? node.items : [];
  list.forEach((pattern, i) => {
    // Stacker compiles Go RE2 syntax; we compile the same `^` + re + `$` as a JS RegExp. The
    // common syntax is the same; RE2-only forms such as (?P<name>...) are reported here.
    try {
      new RegExp(`^${pattern}$`);
    } catch (err) {
      fail(
        ctx,
        (items[i] as YamlNode | undefined) ?? node,
        `build_env_passthrough entry '${pattern}' is not a valid regular expression: ` +
          (err as Error).message,
        'entries are JavaScript regular expressions matched against whole variable names',
      );
    }
  });
  return list;
}

/** `os` / `arch`: a present null value is an error, as in stacker. */
export function decodePlatform(
  ctx: NodeContext,
  node: YamlNode | undefined,
  key: string,
  keyPos: SourcePos,
): string {
  const value = textValue(ctx, node, `'${key}'`);
  if (value === '') {
    fail(ctx, node ?? keyPos, `"${key}" value cannot be empty`, `remove '${key}:' for the default`);
  }
  return value;
}

/**
 * `binds`: `- /path`, `- /host -> /container` or `- {source, dest}`. Sources are made absolute
 * against `dir`. A destination is an in-container path: stacker makes a relative one absolute
 * against the stacker file's directory on the host, which we take for a bug; we resolve it
 * against the container's `/`. A destination that is not written is the (absolute) source.
 * The map form may say `hash: true`: the bind is then an input like an import (read-only,
 * content in the cache key) instead of making the layer rebuild every time.
 */
export function decodeBinds(ctx: NodeContext, node: YamlNode | undefined, dir: string): Bind[] {
  const hint = "write '- /host/path', '- /host/path -> /container/path' or a source/dest map";
  return listItems(ctx, node, 'binds', hint).map((item) => {
    const pos = posOf(ctx.src, item);
    if (item && isScalar(item) && typeof item.value === 'string') {
      const words = item.value.trim().split(/\s+/);
      if (words.length === 1 && words[0] !== '') {
        const source = absolutePath(words[0]!, dir);
        return { source, dest: source, pos };
      }
      if (words.length !== 3 || words[1] !== '->') {
        fail(ctx, item, `invalid Bind: ${item.value}`, `${hint} (paths cannot contain spaces)`);
      }
      return bind(absolutePath(words[0]!, dir), words[2]!, pos);
    }
    if (item && isMap(item)) {
      const fields = knownFields(ctx, item, ['source', 'dest', 'hash'], 'bind');
      const source = textValue(ctx, fields.source, "'source' in bind");
      if (source === '') {
        fail(ctx, item, `unexpected 'bind': missing required field 'source': ${quote(item)}`, hint);
      }
      const dest = textValue(ctx, fields.dest, "'dest' in bind");
      const hash = bindHash(ctx, fields.hash);
      const abs = absolutePath(source, dir);
      const decoded = dest === '' ? { source: abs, dest: abs, pos } : bind(abs, dest, pos);
      return hash ? { ...decoded, hash } : decoded;
    }
    return fail(ctx, item ?? node, `unexpected 'bind' data of type: ${kindOf(item)}`, hint);
  });
}

/**
 * A bind's `hash:` is a yes/no switch, unlike an import's `hash:` (a sha256): a digest would
 * have to be updated by hand whenever the bound directory changes, which defeats binding it.
 */
function bindHash(ctx: NodeContext, node: YamlNode | undefined): boolean {
  if (node && isScalar(node) && typeof node.value === 'string' && node.value !== '') {
    fail(
      ctx,
      node,
      `'hash' in bind is true or false, not a digest: ${node.value}`,
      "write 'hash: true' to have the bind's content hashed into the layer's cache key",
    );
  }
  return boolValue(ctx, node, 'hash');
}

function bind(source: string, dest: string, pos: Bind['pos']): Bind {
  return { source, dest: posix.resolve('/', dest), pos };
}

/**
 * `overlay_dirs`: a list of `{source, dest}`; `dest` defaults to `/`. Stacker turns a missing
 * `source` into the stacker file's directory (a side effect of making paths absolute); we
 * require it, since silently layering the whole project directory is rarely what was meant.
 */
export function decodeOverlayDirs(
  ctx: NodeContext,
  node: YamlNode | undefined,
  dir: string,
): OverlayDir[] {
  return listItems(ctx, node, 'overlay_dirs').map((item) => {
    if (!item || !isMap(item)) {
      fail(
        ctx,
        item ?? node,
        `an overlay_dirs entry must be a map, found ${kindOf(item)}`,
        "write '- source: <host dir>' with an optional 'dest: <path in the image>'",
      );
    }
    const fields = knownFields(ctx, item, ['source', 'dest'], 'overlay_dirs entry');
    const source = textValue(ctx, fields.source, "'source' in overlay_dirs");
    if (source === '') {
      fail(ctx, item, `overlay_dirs entry has no 'source': ${quote(item)}`, "write 'source: .'");
    }
    const dest = textValue(ctx, fields.dest, "'dest' in overlay_dirs") || '/';
    return { source: absolutePath(source, dir), dest, pos: posOf(ctx.src, item) };
  });
}

/** Values of the known keys of a lenient map; unknown keys are ignored with a warning. */
function knownFields(
  ctx: NodeContext,
  map: Parameters<typeof mapEntries>[1],
  known: string[],
  what: string,
): Partial<Record<string, YamlNode | undefined>> {
  const fields: Partial<Record<string, YamlNode | undefined>> = {};
  for (const entry of mapEntries(ctx, map, what)) {
    if (known.includes(entry.key)) fields[entry.key] = entry.value;
    else warnAt(ctx, entry.pos, `unknown key '${entry.key}' in ${what} is ignored`);
  }
  return fields;
}
