/**
 * The `from` directive (spec 1.4). Stacker defers most of these checks to ordering or base
 * fetching (a missing url or an unknown type fails minutes into a build); we check them all
 * here so that a broken file fails before anything runs.
 */
import { isAbsolute, resolve } from 'node:path';
import type { BaseType, From, SourcePos } from './types';
import { boolValue, expectMap, suggest, textValue } from './values';
import { fail, mapEntries, type NodeContext, posOf, type YamlNode } from './yaml';

export const BASE_TYPES: readonly BaseType[] = ['docker', 'oci', 'tar', 'built', 'scratch'];
export const FROM_KEYS = ['type', 'url', 'tag', 'insecure'];

/**
 * Reads `from` (undefined when the directive is absent or empty). Relative local paths of
 * `oci` and `tar` urls are made absolute against `dir`, the stacker file's directory.
 * Stacker resolves them against the process cwd, which makes a file's meaning depend on where
 * the build is started; we take that for a bug. `docker` urls are left as written.
 */
export function decodeFrom(
  ctx: NodeContext,
  node: YamlNode | undefined,
  layerPos: SourcePos,
  dir: string,
): From {
  const noBase = () =>
    fail(
      ctx,
      node ?? layerPos,
      'invalid layer: no base (from directive)',
      `every layer needs 'from: {type: <${BASE_TYPES.join('|')}>, ...}'`,
    );
  const map = expectMap(ctx, node, 'from');
  if (!map) return noBase();

  const fields: Partial<Record<string, YamlNode | undefined>> = {};
  for (const entry of mapEntries(ctx, map, "'from'")) {
    if (!FROM_KEYS.includes(entry.key)) {
      fail(
        ctx,
        entry.pos,
        `unknown image source directive ${entry.key}`,
        suggest(entry.key, FROM_KEYS),
      );
    }
    fields[entry.key] = entry.value;
  }

  const type = textValue(ctx, fields.type, "'from.type'");
  if (type === '') return noBase();
  if (!(BASE_TYPES as readonly string[]).includes(type)) {
    fail(ctx, fields.type, `unknown layer type: ${type}`, suggest(type, BASE_TYPES));
  }

  const from: From = {
    type: type as BaseType,
    insecure: boolValue(ctx, fields.insecure, 'from.insecure'),
    pos: posOf(ctx.src, map),
  };
  const url = textValue(ctx, fields.url, "'from.url'");
  const tag = textValue(ctx, fields.tag, "'from.tag'");
  if (url !== '') from.url = url;
  if (tag !== '') from.tag = tag;

  checkFrom(ctx, from, fields.url ?? map);
  if (from.url !== undefined) from.url = absoluteUrl(from.type, from.url, dir);
  return from;
}

/** The per-type requirements: docker/oci/tar need a url, built needs a tag. */
function checkFrom(ctx: NodeContext, from: From, urlNode: YamlNode): void {
  const at = from.pos ?? urlNode;
  if (from.type === 'built' && from.tag === undefined) {
    fail(
      ctx,
      at,
      `${ctx.layer}: from tag cannot be empty for image type 'built'`,
      "name the layer to build on: 'tag: <layer name>'",
    );
  }
  if (from.type === 'docker' || from.type === 'oci' || from.type === 'tar') {
    if (from.url === undefined) {
      fail(ctx, at, `from type '${from.type}' needs a url`, urlHint(from.type));
    }
  }
  if (from.type === 'oci') {
    const colon = from.url!.indexOf(':');
    if (colon <= 0 || colon === from.url!.length - 1) {
      fail(ctx, urlNode, `bad OCI tag: '${from.url}' is not <path>:<tag>`, urlHint('oci'));
    }
  }
}

function urlHint(type: BaseType): string {
  if (type === 'docker') return "write e.g. 'url: docker://docker.io/library/alpine:3.20'";
  if (type === 'oci') return "write 'url: <oci layout path>:<tag>', e.g. 'url: ../oci:base'";
  return "write 'url: <path to a tarball>' or an http(s):// or stacker:// url";
}

/** `oci` and `tar` local paths made absolute against `dir`; urls (`://`) unchanged. */
function absoluteUrl(type: BaseType, url: string, dir: string): string {
  if (url.includes('://')) return url;
  if (type === 'tar') return isAbsolute(url) ? url : resolve(dir, url);
  if (type === 'oci') {
    // The layout path is everything before the first ':'; the tag may contain more of them.
    const colon = url.indexOf(':');
    const path = url.slice(0, colon);
    return isAbsolute(path) ? url : `${resolve(dir, path)}${url.slice(colon)}`;
  }
  return url;
}
