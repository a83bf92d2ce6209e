/**
 * `imports` and the deprecated `import` (spec 1.5): a string, or a list of strings and maps.
 * Messages keep stacker's wording so that they can be searched for; each is located at the
 * offending entry.
 */
import { isAbsolute, posix, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import type { Import } from './types';
import { intValue, strictString } from './values';
import {
  fail,
  kindOf,
  mapEntries,
  type NodeContext,
  posOf,
  quote,
  resolveNode,
  scalarText,
  warnAt,
  type YamlNode,
} from './yaml';

export const IMPORT_KEYS = ['path', 'hash', 'dest', 'mode', 'uid', 'gid'];
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * Reads the list; local paths are made absolute against `dir` (a trailing `/` is kept, it
 * means "the directory's content"); `http(s)://` and `stacker://` paths are kept as written.
 * Does not check `--require-hash`; the layer does, over `import` and `imports` together.
 */
export function decodeImports(ctx: NodeContext, node: YamlNode | undefined, dir: string): Import[] {
  if (node === undefined) return [];
  const what = ctx.directive ?? 'imports';
  if (isScalar(node) && typeof node.value === 'string') {
    return [withPath(ctx, node, node.value, dir, {})];
  }
  if (!isSeq(node)) {
    fail(
      ctx,
      node,
      `'${what}' expected an array, found ${kindOf(node)}: ${quote(node)}`,
      `write '${what}:' followed by one '- path' per line`,
    );
  }

  return node.items.map((raw) => {
    const item = resolveNode(ctx, raw);
    if (item && isScalar(item) && typeof item.value === 'string') {
      return withPath(ctx, item, item.value, dir, {});
    }
    if (item && isMap(item)) return decodeImportMap(ctx, item, dir);
    if (item === undefined || (isScalar(item) && item.value === null)) {
      return fail(
        ctx,
        item ?? (raw as YamlNode) ?? node,
        `${what} entry is empty`,
        'write a path after the dash, or remove it',
      );
    }
    return fail(
      ctx,
      item,
      `could not read imports entry: ${kindOf(item)} ${quote(item)}`,
      "an entry is a path string or a map with at least 'path'",
    );
  });
}

/** One map entry: `path` required; `hash`, `dest`, `mode`, `uid`, `gid` optional. */
function decodeImportMap(ctx: NodeContext, map: YAMLMap, dir: string): Import {
  const fields = importFields(ctx, map);

  const text = (key: string) =>
    fields[key] === undefined
      ? undefined
      : strictString(
          ctx,
          fields[key],
          `value for '${key}' in import is not a string: ${quote(map)}`,
        );
  const path = text('path');
  if (path === undefined || path === '') {
    fail(
      ctx,
      map,
      `No 'path' entry found in import: ${quote(map)}`,
      "add 'path: <file, dir or url>'",
    );
  }

  const found: Partial<Import> = {};
  const hash = text('hash');
  if (hash !== undefined) found.hash = checkHash(ctx, fields.hash!, hash);
  const dest = text('dest');
  if (dest !== undefined) {
    if (!posix.isAbsolute(dest)) {
      fail(
        ctx,
        fields.dest,
        `'dest' path cannot be relative for: ${path}`,
        "write e.g. 'dest: /opt/'",
      );
    }
    found.dest = dest;
  }
  for (const key of ['mode', 'uid', 'gid'] as const) {
    const value = readInt(ctx, fields[key], key, path);
    if (value !== undefined) found[key] = value;
  }
  return withPath(ctx, map, path, dir, found);
}

/** The values of the known keys; unknown keys are ignored with a warning. */
function importFields(ctx: NodeContext, map: YAMLMap): Partial<Record<string, YamlNode>> {
  const fields: Partial<Record<string, YamlNode>> = {};
  for (const entry of mapEntries(ctx, map, 'import')) {
    if (!entry.keyIsString) {
      fail(
        ctx,
        entry.pos,
        `key '${entry.key}' in import is not a string: ${quote(map)}`,
        `import keys are ${IMPORT_KEYS.join(', ')}`,
      );
    }
    if (!IMPORT_KEYS.includes(entry.key)) {
      // Stacker ignores unknown keys silently; a warning catches typos like `perms:`.
      warnAt(ctx, entry.pos, `unknown key '${entry.key}' in import is ignored`);
      continue;
    }
    fields[entry.key] = entry.value;
  }
  return fields;
}

/** An import with its path made absolute and its position recorded. */
function withPath(
  ctx: NodeContext,
  node: YamlNode,
  path: string,
  dir: string,
  rest: Partial<Import>,
): Import {
  if (path === '') {
    fail(ctx, node, "No 'path' entry found in import: an empty path", 'write a file, dir or url');
  }
  if (path.startsWith('stacker://')) checkStackerUrl(ctx, node, path);
  return { ...rest, path: absolutePath(path, dir), pos: posOf(ctx.src, node) };
}

/** `stacker://<layer>/<path>` names a layer and something below `/` in it. */
function checkStackerUrl(ctx: NodeContext, node: YamlNode, url: string): void {
  const rest = url.slice('stacker://'.length);
  const slash = rest.indexOf('/');
  const name = slash > 0 ? posix.basename(rest.slice(slash).replace(/\/+$/, '')) : '';
  if (name === '' || name === '.' || name === '..') {
    fail(
      ctx,
      node,
      `bad stacker:// url ${url}: it names no file or directory of the layer`,
      'write stacker://<layer name>/<absolute path in that layer>',
    );
  }
}

/** Local paths absolute against `dir`, keeping a trailing `/`; urls unchanged. */
export function absolutePath(path: string, dir: string): string {
  if (path.includes('://')) return path;
  const abs = isAbsolute(path) ? resolve(path) : resolve(dir, path);
  return path.endsWith('/') && !abs.endsWith('/') ? `${abs}/` : abs;
}

/** sha256 hex, any case, stored lower-case. */
function checkHash(ctx: NodeContext, node: YamlNode, hash: string): string {
  if (SHA256_HEX.test(hash)) return hash.toLowerCase();
  const hint = hash.toLowerCase().startsWith('sha256:')
    ? "drop the 'sha256:' prefix: stacker expects the bare hex digest"
    : 'the hash is the 64 hexadecimal characters printed by sha256sum';
  fail(ctx, node, `Given hash ${hash} is not valid: expected 64 hexadecimal characters`, hint);
}

/** mode/uid/gid: integers; uid/gid -1 means "unchanged"; other negatives are errors. */
function readInt(
  ctx: NodeContext,
  node: YamlNode | undefined,
  key: 'mode' | 'uid' | 'gid',
  path: string,
): number | undefined {
  if (node === undefined) return undefined;
  const value = intValue(
    ctx,
    node,
    `value for '${key}' in import is not an integer: ${quote(node)}`,
  );
  if (key !== 'mode' && value === -1) return undefined;
  const range =
    key === 'mode' ? 'a mode is 0 to 07777' : 'use -1 (or leave it out) to keep the owner';
  if (value < 0) fail(ctx, node, `'${key}' (${value}) cannot be negative: ${path}`, range);
  if (key !== 'mode' && value > 0xffffffff)
    fail(ctx, node, `'${key}' (${value}) is too large: ${path}`, 'ids are 32-bit numbers');
  if (key === 'mode' && isScalar(node) && value > 0o777 && !scalarText(node).startsWith('0')) {
    const written = scalarText(node);
    const octal = value.toString(8);
    warnAt(
      ctx,
      posOf(ctx.src, node),
      `mode ${written} is decimal (0o${octal}); write 0${written} for octal`,
    );
  }
  return value;
}
