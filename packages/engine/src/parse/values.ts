/**
 * Typed readers for directive values. Each takes a node already resolved from aliases
 * (undefined = the value was empty/null) and either returns plain data or throws a
 * StackerError located at the node. Two families:
 * - "text" readers mimic yaml.v2 filling a Go string field: any scalar is accepted and
 *   becomes its source text;
 * - "strict" readers mimic stacker's own decoding of `run`, `cmd`, `imports`...: the YAML
 *   value must already be a string.
 */
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import {
  fail,
  isIntScalar,
  kindOf,
  mapEntries,
  type NodeContext,
  quote,
  resolveNode,
  scalarText,
  type YamlNode,
} from './yaml';

/** A scalar's text (null -> ""); a map or list is an error. `label` is "'what'" or similar. */
export function textValue(ctx: NodeContext, node: YamlNode | undefined, label: string): string {
  if (node === undefined) return '';
  if (!isScalar(node)) {
    fail(ctx, node, `${label} expected a string, found ${kindOf(node)}`, 'write a single value');
  }
  return scalarText(node);
}

/**
 * A YAML string; other scalars are errors too (`message` overrides the default text). The
 * default hint explains YAML 1.1 readings such as `y` -> true, the usual cause.
 */
export function strictString(
  ctx: NodeContext,
  node: YamlNode | undefined,
  message: string,
  hint?: string,
): string {
  if (node !== undefined && isScalar(node) && typeof node.value === 'string') return node.value;
  const reading =
    node !== undefined && isScalar(node)
      ? `YAML 1.1 reads ${scalarText(node)} as a ${kindOf(node)}; quote it to make it a string`
      : undefined;
  return fail(ctx, node, message, hint ?? reading ?? 'write a plain string');
}

/** A YAML 1.1 boolean (`true/false/yes/no/on/off`); null is false. */
export function boolValue(ctx: NodeContext, node: YamlNode | undefined, what: string): boolean {
  if (node === undefined) return false;
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  fail(
    ctx,
    node,
    `'${what}' expected a bool, found ${kindOf(node)}: ${quote(node)}`,
    'write true or false, without quotes',
  );
}

/** An integer scalar (`0755` is octal, as in YAML 1.1); anything else throws `message`. */
export function intValue(
  ctx: NodeContext,
  node: YamlNode | undefined,
  message: string,
  hint?: string,
): number {
  if (node === undefined || !isScalar(node) || !isIntScalar(node)) {
    fail(ctx, node, message, hint ?? 'write a whole number without quotes');
  }
  return node.value as number;
}

/** A list's items resolved from aliases (empty items stay undefined); null is an empty list. */
export function listItems(
  ctx: NodeContext,
  node: YamlNode | undefined,
  what: string,
  hint?: string,
): (YamlNode | undefined)[] {
  if (node === undefined) return [];
  if (!isSeq(node)) {
    fail(
      ctx,
      node,
      `'${what}' expected a list, found ${kindOf(node)}: ${quote(node)}`,
      hint ?? `write '${what}:' followed by one '- item' per line`,
    );
  }
  return node.items.map((item) => resolveNode(ctx, item));
}

/** A list whose items are read as text (yaml.v2 `[]string`). */
export function textList(ctx: NodeContext, node: YamlNode | undefined, what: string): string[] {
  const hint = `write it as a YAML list: '${what}: [a, b]' or one '- item' per line`;
  return listItems(ctx, node, what, hint).map((item) =>
    textValue(ctx, item, `an item of '${what}'`),
  );
}

/**
 * A map of scalars read as text, in file order (yaml.v2 `map[string]string`): `FOO: 1` gives
 * "1", `FOO:` gives "". Keys are text too (`1: x` has key "1").
 */
export function textMap(
  ctx: NodeContext,
  node: YamlNode | undefined,
  what: string,
): [string, string][] {
  const map = expectMap(ctx, node, what);
  if (!map) return [];
  return mapEntries(ctx, map, `'${what}'`).map((entry) => {
    const value = entry.value;
    if (value !== undefined && !isScalar(value)) {
      fail(
        ctx,
        value,
        `value of '${entry.key}' in '${what}' expected a string, found ${kindOf(value)}`,
        'quote the whole value to keep it as text',
      );
    }
    return [entry.key, value === undefined ? '' : scalarText(value)];
  });
}

/** The node as a map; null is undefined; anything else is an error naming `what`. */
export function expectMap(
  ctx: NodeContext,
  node: YamlNode | undefined,
  what: string,
): YAMLMap | undefined {
  if (node === undefined) return undefined;
  if (!isMap(node)) {
    fail(
      ctx,
      node,
      `'${what}' expected a map, found ${kindOf(node)}: ${quote(node)}`,
      `write '${what}:' followed by indented 'key: value' lines`,
    );
  }
  return node;
}

/** Edit distance counting a swap of two neighbours as one edit, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** A hint naming the closest valid name when one is close, else listing them all. */
export function suggest(word: string, valid: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of valid) {
    const d = distance(word.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const close = best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3));
  const all = `valid names: ${valid.join(', ')}`;
  return close ? `did you mean '${best}'? (${all})` : all;
}
