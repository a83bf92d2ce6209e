import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Document } from 'yaml';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { type Instruction, parseDockerfile } from './dockerfile';
import {
  argInstruction,
  Converter,
  commandInstruction,
  copyInstruction,
  envInstruction,
  fromInstruction,
  labelInstruction,
  maintainerInstruction,
  runInstruction,
  stageRef,
  userInstruction,
  volumeInstruction,
  workdirInstruction,
} from './instructions';
import type { LayerOut, Stage, Unconverted } from './model';

export type { Unconverted } from './model';

/** What a conversion produced. */
export interface ConvertResult {
  /** The stacker file. */
  stackerYaml: string;
  /** Substitutions it uses (ARG defaults, the final layer's name), in order; may be empty. */
  substitutions: [string, string][];
  /** The substitute file's text, or undefined when there are no substitutions. */
  substitutionsYaml?: string;
  /** Instructions (or parts) with no stacker equivalent, by line; also listed in the file. */
  unconverted: Unconverted[];
}

type Mapper = (c: Converter, ins: Instruction) => void;

const MAPPERS: Record<string, Mapper> = {
  FROM: fromInstruction,
  RUN: runInstruction,
  CMD: commandInstruction,
  ENTRYPOINT: commandInstruction,
  ENV: envInstruction,
  LABEL: labelInstruction,
  ARG: argInstruction,
  WORKDIR: workdirInstruction,
  USER: userInstruction,
  VOLUME: volumeInstruction,
  MAINTAINER: maintainerInstruction,
  COPY: copyInstruction,
};

/** Why the instructions without a mapping are not converted. */
const NOT_CONVERTED: Record<string, string> = {
  ADD: 'ADD (archives, urls) has no stacker equivalent; rewrite it as COPY or an imports entry',
  EXPOSE: 'stacker images declare no ports',
  HEALTHCHECK: 'stacker images have no health check',
  ONBUILD: 'stacker has no build triggers',
  SHELL: 'run steps always use /bin/sh',
  STOPSIGNAL: 'stacker has no stop signal directive',
};

/** Instructions whose mapping reads their flags; others' flags are reported as dropped. */
const TAKES_FLAGS = new Set(['FROM', 'RUN', 'COPY']);

/** The order of directives in a converted layer. */
const DIRECTIVE_ORDER: (keyof LayerOut)[] = [
  'from',
  'build_only',
  'os',
  'arch',
  'build_env',
  'imports',
  'run',
  'working_dir',
  'runtime_user',
  'volumes',
  'labels',
  'annotations',
  'entrypoint',
  'cmd',
];

/**
 * `stacker convert`, best effort (spec 7.9): a Dockerfile's text to a stacker file. Every
 * stage becomes a layer; instructions with no stacker equivalent are reported with their
 * line (in the result and as comments at the top of the file) instead of failing the whole
 * conversion as stacker does. Where we differ from stacker, on purpose:
 * - layers are in Dockerfile order (stacker sorts them by name);
 * - every stage but the last is `build_only` (stacker's own FIXME), an unnamed one is
 *   `stage<n>`, and `FROM <earlier stage>` is `type: built` (not docker://<stage>);
 * - the shell form of CMD/ENTRYPOINT runs through `/bin/sh -c`, as Docker runs it; a JSON
 *   RUN is one command line, not one line per element;
 * - ENV applies to the stage and stages built on it (stacker: to every later RUN);
 * - VOLUME becomes `volumes` (stacker bound the host path `STACKER_VOLn` at build time);
 * - WORKDIR also sets `working_dir`, USER `runtime_user`; COPY keeps every source, resolves
 *   relative destinations against WORKDIR, and maps octal `--chmod` to `mode`;
 * - an ARG without default becomes `${{NAME:}}` (empty, as in Docker) so the file parses.
 * Fails with a located StackerError (`conversion failed: …`) when the Dockerfile cannot be
 * read as one: no FROM, an unsupported FROM form, a malformed ENV, LABEL or ARG.
 */
export function convertDockerfile(text: string, file?: string): ConvertResult {
  const parsed = parseDockerfile(text, file);
  const c = new Converter(file, parsed.escapeChar);

  for (const ins of parsed.instructions) {
    const map = MAPPERS[ins.keyword];
    if (!map) {
      c.current(ins);
      const why = NOT_CONVERTED[ins.keyword] ?? `unknown Dockerfile cmd: ${ins.keyword}`;
      c.skip(ins, `not converted: ${why}`);
      continue;
    }
    if (!TAKES_FLAGS.has(ins.keyword)) for (const f of ins.flags) c.skip(ins, `flag ${f} dropped`);
    map(c, ins);
  }
  if (c.stages.length === 0) {
    throw new StackerError('conversion failed: the Dockerfile has no FROM', { file });
  }

  const layers = nameLayers(c);
  const substitutions = [...c.substitutions];
  return {
    stackerYaml: stackerYaml(layers, c.unconverted, file),
    substitutions,
    substitutionsYaml: substitutions.length
      ? new Document(Object.fromEntries(substitutions)).toString()
      : undefined,
    unconverted: c.unconverted,
  };
}

/** Layer names: `FROM … AS` names, `stage<n>`, and `${{IMAGE}}` (default app) for the last. */
function nameLayers(c: Converter): [string, LayerOut][] {
  const last = c.stages.length - 1;
  return c.stages.map((stage: Stage, i) => {
    if (i < last) stage.layer.build_only = true;
    if (i === last && stage.name === undefined) {
      c.substitutions.set('IMAGE', 'app');
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a stacker placeholder
      return ['${{IMAGE}}', stage.layer];
    }
    return [stageRef(stage), stage.layer];
  });
}

/** The stacker file: a comment on what was not converted, then the layers in order. */
function stackerYaml(layers: [string, LayerOut][], skipped: Unconverted[], file?: string): string {
  const doc = new Document(Object.fromEntries(layers.map(([name, l]) => [name, compact(l)])));
  const from = file ? basename(file) : 'Dockerfile';
  const header = [` Converted from ${from} by nx-stacker convert (best effort): review it.`];
  if (skipped.length) {
    header.push(' Not converted, or only in part:');
    for (const s of skipped) header.push(`   ${from}:${s.line}: ${s.keyword}: ${s.reason}`);
  }
  doc.commentBefore = header.join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** The layer without empty directives, in a readable order. */
function compact(layer: LayerOut): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of DIRECTIVE_ORDER) {
    const value = layer[key];
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) {
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * Converts the Dockerfile `dockerfile` and writes the stacker file to `outputFile` and, when
 * there are substitutions, the substitute file (paths relative to `cwd`). Each instruction
 * that was not converted is logged as a warning with its line.
 */
export function convertDockerfileFile(opts: {
  dockerfile: string;
  outputFile: string;
  substituteFile: string;
  cwd?: string;
  log: Logger;
}): ConvertResult {
  const cwd = opts.cwd ?? process.cwd();
  const input = resolve(cwd, opts.dockerfile);
  let text: string;
  try {
    text = readFileSync(input, 'utf8');
  } catch (err) {
    throw new StackerError(
      `conversion failed: couldn't read ${input}: ${(err as Error).message}`,
      { file: input },
      'give the Dockerfile with -i/--docker-file',
    );
  }

  const result = convertDockerfile(text, input);
  for (const s of result.unconverted) {
    opts.log.warn(`${input}:${s.line}: ${s.keyword}: ${s.reason}`);
  }
  const output = resolve(cwd, opts.outputFile);
  write(output, result.stackerYaml);
  opts.log.info(`wrote ${output}`);
  if (result.substitutionsYaml) {
    const subs = resolve(cwd, opts.substituteFile);
    write(subs, result.substitutionsYaml);
    opts.log.info(`wrote ${subs} (build with --substitute-file ${opts.substituteFile})`);
  }
  return result;
}

/** Writes an output file; unlike stacker, a failure is an error, not silence. */
function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw new StackerError(`conversion failed: couldn't write ${path}: ${(err as Error).message}`, {
      file: path,
    });
  }
}
