/**
 * Placeholder substitution in the raw text of a stacker file (spec 1.10), done before YAML
 * parsing, so a value can change the document's structure exactly as in stacker.
 *
 * Syntax: `${{NAME}}` takes the value of the first `NAME=...` entry and is an error when there
 * is none; `${{NAME:default}}` falls back to `default`, which cannot contain `}` but may hold
 * placeholders itself (`${{IMAGE:${{STACKER_OCI_DIR}}:base}}`).
 *
 * Deliberate differences from stacker, whose implementation builds one regexp per entry:
 * - keys are matched literally (stacker pastes them into a regexp unescaped);
 * - values are inserted literally (stacker expands `$1`, `${x}` inside them, usually to "");
 * - the text is scanned once, so a value containing `${{X}}` is not substituted again;
 * - a placeholder with a value and a nested placeholder in its default becomes the value
 *   (stacker leaves the default's closing `}}` behind);
 * - the `$KEY` misuse check needs a word boundary after KEY (stacker's substring test also
 *   fires for `$KEYSUFFIX`), and looks at the text as written, not as partly substituted;
 * - every error carries the file and the line/column of the placeholder.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { StackerError } from '../errors';
import {
  fail,
  kindOf,
  mapEntries,
  type NodeContext,
  parseYaml,
  resolveNode,
  scalarText,
} from './yaml';

export interface SubstituteOptions {
  /** The file the text comes from, for error locations. */
  file?: string;
  /** Receives one message per unsupported placeholder (stacker logs them at error level). */
  warn?: (message: string) => void;
  /** Receives, per entry, whether and how often it was used. */
  debug?: (message: string) => void;
  /** See ParseOptions.missingValue. */
  missingValue?: (name: string) => string | undefined;
}

const HOW_TO = `pass --substitute NAME=value or write \${{NAME:default}}`;

/** A placeholder as written: its name, its default's parts (text and nested placeholders). */
interface Placeholder {
  name: string;
  offset: number;
  /** Undefined without `:default`. */
  fallback?: (string | Placeholder)[];
  /** Offset just past its closing `}}`. */
  end: number;
}

/**
 * The placeholder starting at `start` (which holds `${{`), or undefined when none is written
 * there (no closing `}}`, or a `}` inside): the text is then left as it is, as stacker's
 * regexps leave it. A default may hold placeholders of its own (`${{A:${{B}}}}`), resolved
 * first, as stacker's entry-by-entry replacement does.
 */
function placeholderAt(text: string, start: number): Placeholder | undefined {
  let i = start + 3;
  const nameStart = i;
  while (i < text.length && text[i] !== ':' && text[i] !== '}') i++;
  const name = text.slice(nameStart, i);
  if (text.startsWith('}}', i)) return { name, offset: start, end: i + 2 };
  if (text[i] !== ':') return undefined;
  i++;
  const fallback: (string | Placeholder)[] = [];
  let literal = '';
  while (i < text.length) {
    if (text.startsWith('${{', i)) {
      const inner = placeholderAt(text, i);
      if (!inner) return undefined;
      if (literal) fallback.push(literal);
      literal = '';
      fallback.push(inner);
      i = inner.end;
    } else if (text[i] === '}') {
      if (!text.startsWith('}}', i)) return undefined;
      if (literal) fallback.push(literal);
      return { name, offset: start, fallback, end: i + 2 };
    } else {
      literal += text[i];
      i++;
    }
  }
  return undefined;
}

/** Replaces every `${{NAME}}` / `${{NAME:default}}` in `text`; see the module comment. */
export function substitute(
  text: string,
  substitutions: string[],
  opts: SubstituteOptions = {},
): string {
  const values = parseEntries(substitutions, opts.file);
  checkMisuse(text, values, opts);

  const used = new Map<string, number>();
  const replacementOf = (p: Placeholder): string => {
    const value = values.get(p.name);
    if (value !== undefined) {
      used.set(p.name, (used.get(p.name) ?? 0) + 1);
      return value;
    }
    if (p.fallback)
      return p.fallback
        .map((part) => (typeof part === 'string' ? part : replacementOf(part)))
        .join('');
    const filled = opts.missingValue?.(p.name);
    if (filled !== undefined) return filled;
    throw new StackerError(
      `no value for substitution ${p.name}`,
      { file: opts.file, ...lineColumn(text, p.offset) },
      HOW_TO.replaceAll('NAME', p.name),
    );
  };

  let out = '';
  let copied = 0;
  for (let at = text.indexOf('${{'); at >= 0; ) {
    const p = placeholderAt(text, at);
    if (!p) {
      at = text.indexOf('${{', at + 1);
      continue;
    }
    out += text.slice(copied, at) + replacementOf(p);
    copied = p.end;
    at = text.indexOf('${{', p.end);
  }
  out += text.slice(copied);

  for (const name of values.keys()) {
    const count = used.get(name) ?? 0;
    opts.debug?.(
      count ? `substitution ${name} used ${count} time(s)` : `substitution ${name} not used`,
    );
  }
  return out;
}

/** `KEY=VALUE` entries as a map; the first entry for a key wins, as in stacker. */
function parseEntries(substitutions: string[], file: string | undefined): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of substitutions) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      // Stacker's spelling ("substition") is kept: scripts match on this message.
      throw new StackerError(
        `invalid substition ${entry}`,
        { file },
        'a substitution is KEY=VALUE, e.g. --substitute VERSION=1.2',
      );
    }
    const key = entry.slice(0, eq);
    if (!values.has(key)) values.set(key, entry.slice(eq + 1));
  }
  return values;
}

/**
 * Rejects shell-style `$KEY`, `${KEY}` and `${KEY:...}` for keys that were given a value: the
 * user most likely meant `${{KEY}}`. Each occurrence is reported through `warn`, then one
 * error counts them.
 */
function checkMisuse(text: string, values: Map<string, string>, opts: SubstituteOptions): void {
  const found: { offset: number; message: string }[] = [];
  for (const [key, value] of values) {
    const k = escapeRegExp(key);
    const pattern = new RegExp(`\\$${k}(?![A-Za-z0-9_])|\\$\\{${k}(:[^}]*)?\\}`, 'g');
    for (const match of text.matchAll(pattern)) {
      const placeholder = match[0];
      found.push({
        offset: match.index,
        message:
          `"${key}=${value}" was provided as a substitution and unsupported placeholder ` +
          `"${placeholder}" was found. Replace "${placeholder}" with "\${{${key}}}" to use ` +
          'the substitution.',
      });
    }
  }
  if (found.length === 0) return;

  found.sort((a, b) => a.offset - b.offset);
  for (const f of found) {
    const at = lineColumn(text, f.offset);
    opts.warn?.(`${opts.file ?? '<text>'}:${at.line}:${at.column}: ${f.message}`);
  }
  throw new StackerError(
    `${found.length} instances of unsupported placeholders found. Review log for how to update.`,
    { file: opts.file, ...lineColumn(text, found[0]!.offset) },
    `stacker substitutes only \${{KEY}}; rename shell variables that share a --substitute key`,
  );
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Where the substitution list comes from (the CLI flags and directories). */
export interface SubstitutionSources {
  /** `--substitute` flags in the order given; commas are not separators. */
  flags: string[];
  /**
   * `--substitute-file`: a YAML map of KEY: VALUE. This and the directories below should be
   * absolute; relative ones resolve against the process cwd.
   */
  file?: string;
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
  /** `--work-dir`; STACKER_WORK_DIR is "" without it. */
  workDir?: string;
}

/**
 * The entries for `substitute`, in the order they apply (spec 1.10): the flags, then the
 * substitute-file entries whose key no flag gave (in file order), then the built-ins
 * STACKER_ROOTFS_DIR, STACKER_STACKER_DIR, STACKER_OCI_DIR, STACKER_WORK_DIR (absolute). A user
 * entry for a built-in name therefore wins. Does not validate the flags; `substitute` does.
 */
export function buildSubstitutions(sources: SubstitutionSources): string[] {
  const out = [...sources.flags];
  const given = new Set(
    sources.flags.map((f) => (f.includes('=') ? f.slice(0, f.indexOf('=')) : f)),
  );

  if (sources.file !== undefined) {
    for (const [key, value] of readSubstituteFile(resolve(sources.file))) {
      if (given.has(key)) continue;
      given.add(key);
      out.push(`${key}=${value}`);
    }
  }

  out.push(
    `STACKER_ROOTFS_DIR=${resolve(sources.rootsDir)}`,
    `STACKER_STACKER_DIR=${resolve(sources.stackerDir)}`,
    `STACKER_OCI_DIR=${resolve(sources.ociDir)}`,
    `STACKER_WORK_DIR=${sources.workDir ? resolve(sources.workDir) : ''}`,
  );
  return out;
}

/** The KEY: VALUE pairs of a substitute file, in file order. */
function readSubstituteFile(file: string): [string, string][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackerError(
      `unable to read substitute-file ${file}: ${(err as Error).message}`,
      { file },
      'check the --substitute-file path',
      { cause: err },
    );
  }

  try {
    return substituteFileEntries(text, file);
  } catch (err) {
    if (!(err instanceof StackerError)) throw err;
    const detail = err.message.replace(`couldn't parse stacker file ${file}: `, '');
    throw new StackerError(
      `unable to unmarshal substitute-file ${file}: ${detail}`,
      err.where,
      err.hint ?? SUBST_FILE_HINT,
      { cause: err },
    );
  }
}

const SUBST_FILE_HINT = 'a substitute-file is a YAML map of KEY: VALUE lines';

/** Values are read as text, like stacker's map[string]string (`1.0` stays "1.0"). */
function substituteFileEntries(text: string, file: string): [string, string][] {
  const ctx: NodeContext = { src: parseYaml(text, file) };
  const root = resolveNode(ctx, ctx.src.doc.contents);
  if (root === undefined) return [];
  if (!isMap(root)) {
    fail(ctx, root, `expected a map of KEY: VALUE, found ${kindOf(root)}`, SUBST_FILE_HINT);
  }

  return mapEntries(ctx, root, 'the substitute-file').map((entry) => {
    const value = entry.value;
    if (value !== undefined && !isScalar(value)) {
      fail(
        ctx,
        value,
        `value of '${entry.key}' expected a string, found ${kindOf(value)}`,
        SUBST_FILE_HINT,
      );
    }
    return [entry.key, value === undefined ? '' : scalarText(value)];
  });
}
