/**
 * A small Dockerfile parser, enough for `convert`: parser directives (`# escape=`), comments,
 * line continuations (a trailing escape character; comment and empty lines inside a
 * continued instruction are dropped, as Docker does), leading `--flags`, the JSON (exec)
 * form and heredocs (`<<EOF` … `EOF`, whose bodies are kept so that the caller can report
 * them). Variables are not expanded.
 */
import { StackerError } from '../errors';

/** One instruction of a Dockerfile. */
export interface Instruction {
  /** The keyword in upper case: FROM, RUN, COPY, … */
  keyword: string;
  /** Leading `--name[=value]` flags, as written. */
  flags: string[];
  /** The arguments after the flags, continuation lines joined, as written. */
  args: string;
  /** The JSON (exec) form's strings when the arguments are a JSON array of strings. */
  json?: string[];
  /** Heredocs started on this instruction, in order. */
  heredocs: { name: string; body: string }[];
  /** First and last line of the instruction (1-based), heredoc bodies included. */
  line: number;
  endLine: number;
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** The escape character (`\` unless a `# escape=` directive says otherwise). */
  escapeChar: string;
  instructions: Instruction[];
}

const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

/**
 * Parses `text` (the Dockerfile at `file`, for error locations). Fails with a StackerError
 * at the line of an unterminated heredoc or an instruction without arguments.
 */
export function parseDockerfile(text: string, file?: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const escapeChar = parserDirectives(lines).escape ?? '\\';
  const continued = new RegExp(`${escapeChar === '\\' ? '\\\\' : escapeChar}[ \\t]*$`);
  const instructions: Instruction[] = [];

  let i = 0;
  while (i < lines.length) {
    const first = lines[i] as string;
    if (isBlankOrComment(first)) {
      i++;
      continue;
    }

    // Join continuation lines.
    const start = i;
    let joined = '';
    let current = first;
    for (;;) {
      const more = continued.test(current);
      joined += more ? current.replace(continued, '') : current;
      i++;
      if (!more) break;
      while (i < lines.length && isBlankOrComment(lines[i] as string)) i++;
      if (i >= lines.length) break;
      current = lines[i] as string;
    }

    const instruction = splitInstruction(joined, start + 1, file);
    i = readHeredocs(instruction, lines, i, file);
    instruction.endLine = Math.max(instruction.endLine, i);
    instructions.push(instruction);
  }
  return { escapeChar, instructions };
}

/** `# escape=` and other directives: only before the first instruction or other comment. */
function parserDirectives(lines: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of lines) {
    const match = /^\s*#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (!match) break;
    found[(match[1] as string).toLowerCase()] = match[2] as string;
  }
  if (found.escape !== undefined && found.escape !== '\\' && found.escape !== '`') {
    delete found.escape;
  }
  return found;
}

function isBlankOrComment(line: string): boolean {
  return /^\s*(#.*)?$/.test(line);
}

/** Keyword, flags, arguments and JSON form of one (joined) instruction. */
function splitInstruction(text: string, line: number, file?: string): Instruction {
  const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(text) as RegExpExecArray;
  const keyword = (match[1] as string).toUpperCase();
  let rest = (match[2] as string).trim();

  const flags: string[] = [];
  for (let flag = /^--\S+/.exec(rest); flag; flag = /^--\S+/.exec(rest)) {
    flags.push(flag[0]);
    rest = rest.slice(flag[0].length).trimStart();
  }
  if (rest === '' && keyword !== 'HEALTHCHECK') {
    throw new StackerError(
      `conversion failed: ${keyword} needs arguments`,
      { file, line },
      'complete or remove the instruction',
    );
  }
  return { keyword, flags, args: rest, json: jsonForm(rest), heredocs: [], line, endLine: line };
}

/** The strings of a JSON array of strings, or undefined for the shell form. */
function jsonForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // Not JSON: Docker then takes the shell form, and so do we.
  }
  return undefined;
}

/** Consumes the bodies of the heredocs `instruction` starts; returns the next line index. */
function readHeredocs(instruction: Instruction, lines: string[], next: number, file?: string) {
  if (!HEREDOC_KEYWORDS.has(instruction.keyword) || instruction.json) return next;
  let i = next;
  for (const match of instruction.args.matchAll(HEREDOC)) {
    const stripTabs = match[1] === '-';
    const name = match[3] as string;
    const body: string[] = [];
    for (;;) {
      if (i >= lines.length) {
        throw new StackerError(
          `conversion failed: heredoc <<${name} is not terminated`,
          { file, line: instruction.line },
          `end it with a line holding only ${name}`,
        );
      }
      const line = stripTabs ? (lines[i] as string).replace(/^\t+/, '') : (lines[i] as string);
      i++;
      if (line === name) break;
      body.push(line);
    }
    instruction.heredocs.push({ name, body: body.join('\n') });
  }
  return i;
}
