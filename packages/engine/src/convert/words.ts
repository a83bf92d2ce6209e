/** Word-level helpers for Dockerfile arguments and the shell lines made from them. */

/** One word of a shell-form argument list. */
export interface Word {
  /** As written, quotes and escapes included (still valid shell). */
  raw: string;
  /** With quotes removed and escapes applied (what Docker uses as the value). */
  value: string;
}

/**
 * Splits shell-form arguments into words the way Docker's word processing does for ENV,
 * LABEL, ARG, COPY and friends: unquoted whitespace separates words; '…' keeps everything
 * literally; "…" keeps everything except that the escape character escapes `"`, itself, `$`
 * and a backtick; outside quotes the escape character makes the next character literal.
 * Variables are not expanded. An unterminated quote runs to the end of the text.
 */
export function splitWords(text: string, escapeChar = '\\'): Word[] {
  const words: Word[] = [];
  let raw = '';
  let value = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;

  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (!quote && /\s/.test(c)) {
      if (inWord) words.push({ raw, value });
      raw = '';
      value = '';
      inWord = false;
      continue;
    }
    inWord = true;
    raw += c;
    if (c === escapeChar && quote !== "'" && i + 1 < text.length) {
      const next = text[i + 1] as string;
      if (!quote || `"$\`${escapeChar}`.includes(next)) {
        raw += next;
        value += next;
        i++;
        continue;
      }
    }
    if ((c === '"' || c === "'") && (!quote || quote === c)) {
      quote = quote ? undefined : c;
      continue;
    }
    value += c;
  }
  if (inWord) words.push({ raw, value });
  return words;
}

/** `s` as one POSIX shell word, single-quoted unless it needs no quoting at all. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return singleQuote(s);
}

/** `s` in single quotes, always (a command line handed to `sh -c` reads better that way). */
export function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** `s` in double quotes, keeping `$` references live for the shell. */
export function doubleQuote(s: string): string {
  return `"${s.replace(/["\\`]/g, (c) => `\\${c}`)}"`;
}

/**
 * Replaces references to build arguments (`$NAME`, `${NAME}`) with their stacker placeholder
 * (`args` maps each name to it, e.g. `${{NAME}}`), so that they are filled in when the
 * stacker file is read. Unlike stacker, `$NAMES` is not taken for `$NAME`, every argument is
 * replaced (not only the first that matches), and `$(NAME)`, which is command substitution
 * in a shell, is left alone.
 */
export function replaceArgRefs(text: string, args: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [name, replacement] of args) {
    const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const ref = new RegExp(`\\$(?:\\{${esc}\\}|${esc}(?![A-Za-z0-9_]))`, 'g');
    out = out.replace(ref, () => replacement);
  }
  return out;
}
