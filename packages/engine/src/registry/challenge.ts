/** One authentication challenge of a `WWW-Authenticate` header (RFC 7235). */
export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameters by lower-cased name: `realm`, `service`, `scope`, ... */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header into its challenges, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 * Parameter values may be quoted (with `\` escapes) or bare tokens; a header listing several
 * schemes gives several challenges. Malformed parts are skipped rather than thrown on: the
 * caller reports the 401 itself when no usable challenge remains.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const headers = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const challenges: Challenge[] = [];
  for (const text of headers) challenges.push(...parseOne(text));
  return challenges;
}

function parseOne(text: string): Challenge[] {
  const out: Challenge[] = [];
  let pos = 0;
  let current: Challenge | undefined;
  const skipSpace = () => {
    while (pos < text.length && /[\s,]/.test(text[pos] as string)) pos++;
  };

  while (true) {
    skipSpace();
    if (pos >= text.length) break;
    const token = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(text.slice(pos))?.[0];
    if (!token) break;
    pos += token.length;
    const afterToken = text.slice(pos);

    // `name=value` belongs to the current challenge; a bare token starts a new one.
    const eq = /^\s*=\s*/.exec(afterToken);
    if (eq && current && !afterToken.startsWith('==')) {
      pos += eq[0].length;
      current.params[token.toLowerCase()] = readValue();
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;

  function readValue(): string {
    if (text[pos] !== '"') {
      const bare = /^[^\s,]*/.exec(text.slice(pos))?.[0] ?? '';
      pos += bare.length;
      return bare;
    }
    let value = '';
    for (pos++; pos < text.length && text[pos] !== '"'; pos++) {
      if (text[pos] === '\\' && pos + 1 < text.length) pos++;
      value += text[pos];
    }
    pos++;
    return value;
  }
}
