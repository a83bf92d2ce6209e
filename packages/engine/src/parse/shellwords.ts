/**
 * Splits the string form of `cmd`, `entrypoint` and `full_command` into words with POSIX
 * shell quoting rules, as stacker does. Only quoting is interpreted: no variable, glob or
 * tilde expansion, no comments, no operators (`a|b` stays one word).
 */

/** Thrown for an unterminated quote or a trailing backslash; `offset` is where it started. */
export class ShellWordsError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ShellWordsError';
  }
}

const BLANK = new Set([' ', '\t', '\n', '\r']);
/** Characters a backslash escapes inside double quotes; before others it stays literal. */
const DOUBLE_QUOTE_ESCAPES = new Set(['$', '`', '"', '\\', '\n']);

/**
 * Words of `line`: blanks separate words; `'...'` is literal; inside `"..."` a backslash only
 * escapes `$ \` " \\` and newline; outside quotes a backslash escapes any character and
 * backslash-newline joins lines. `''` and `""` produce an empty word.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;

  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.has(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError('unterminated single quote', i);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const { text, next } = readDoubleQuoted(line, i);
      word += text;
      inWord = true;
      i = next;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ShellWordsError('trailing backslash escapes nothing', i);
      // Backslash-newline is a line continuation: it disappears and does not start a word.
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }

  if (inWord) words.push(word);
  return words;
}

/** Reads `"..."` starting at `start` (the opening quote); returns its text and the next index. */
function readDoubleQuoted(line: string, start: number): { text: string; next: number } {
  let text = '';
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') return { text, next: i + 1 };
    if (c === '\\' && i + 1 < line.length && DOUBLE_QUOTE_ESCAPES.has(line[i + 1]!)) {
      if (line[i + 1] !== '\n') text += line[i + 1];
      i += 2;
      continue;
    }
    text += c;
    i++;
  }
  throw new ShellWordsError('unterminated double quote', start);
}
