/**
 * The mapping of Dockerfile instructions to stacker directives (spec 7.9), one function per
 * instruction, on a Converter that holds the stages and build arguments seen so far.
 * See convert.ts for where and why it differs from stacker.
 */
import { posix } from 'node:path';
import { StackerError } from '../errors';
import { hostArch } from '../parse';
import type { Instruction } from './dockerfile';
import type { ImportOut, Stage, Unconverted } from './model';
import { doubleQuote, replaceArgRefs, shellQuote, singleQuote, splitWords } from './words';

/** The state of a conversion; `file` and `escapeChar` come from the parsed Dockerfile. */
export class Converter {
  readonly stages: Stage[] = [];
  /** Build arguments: name -> the placeholder that replaces references to it. */
  readonly args = new Map<string, string>();
  /** Substitutions for the substitute file, in the order found. */
  readonly substitutions = new Map<string, string>();
  readonly unconverted: Unconverted[] = [];

  constructor(
    readonly file: string | undefined,
    readonly escapeChar: string,
  ) {}

  /** The stage being converted; instructions other than ARG need one. */
  current(ins: Instruction): Stage {
    const stage = this.stages[this.stages.length - 1];
    if (!stage) throw this.error(ins, `${ins.keyword} before the first FROM`);
    return stage;
  }

  /** A located error: the conversion stops. */
  error(ins: Instruction, message: string, hint?: string): StackerError {
    return new StackerError(
      `conversion failed: ${message}`,
      { file: this.file, line: ins.line },
      hint,
    );
  }

  /** Records something that was not converted; the conversion goes on. */
  skip(ins: Instruction, reason: string): void {
    this.unconverted.push({ line: ins.line, keyword: ins.keyword, reason });
  }

  words(text: string) {
    return splitWords(text, this.escapeChar);
  }

  /** A stage by `FROM … AS` name (case-insensitive, as in Docker) or by index. */
  findStage(ref: string): Stage | undefined {
    if (/^\d+$/.test(ref)) return this.stages[Number(ref)];
    return this.stages.find((s) => s.name?.toLowerCase() === ref.toLowerCase());
  }
}

/** The layer name of a stage that later stages refer to (the last one is named at the end). */
export function stageRef(stage: Stage): string {
  return stage.name ?? `stage${stage.index}`;
}

/** FROM [--platform=os/arch] image [AS name]. */
export function fromInstruction(c: Converter, ins: Instruction): void {
  const words = c.words(ins.args).map((w) => w.value);
  const named = words.length === 3 && words[1]?.toLowerCase() === 'as';
  if (words.length !== 1 && !named) throw c.error(ins, 'unsupported FROM directive');
  const image = replaceArgRefs(words[0] as string, c.args);
  const parent = c.findStage(image);

  const stage: Stage = {
    index: c.stages.length,
    name: named ? words[2] : undefined,
    line: ins.line,
    layer: {
      from: parent
        ? { type: 'built', tag: stageRef(parent) }
        : image.toLowerCase() === 'scratch'
          ? { type: 'scratch' }
          : { type: 'docker', url: `docker://${image}` },
      build_env: { arch: hostArch() },
      imports: [],
      run: [],
      labels: {},
      annotations: {},
      volumes: [],
    },
    // A stage built on an earlier one inherits its environment, directory and user.
    env: new Map(parent?.env),
    exported: new Map(),
    workdir: parent?.workdir ?? '',
    inWorkdir: false,
    user: parent?.user,
  };
  if (parent) inheritConfig(stage, parent);
  platform(c, ins, stage);
  c.stages.push(stage);
}

/**
 * What Docker's image config carries from a stage to one built on it. A build_only layer's
 * image gets none of its image directives, so the converted layer repeats them.
 */
function inheritConfig(stage: Stage, parent: Stage): void {
  const { layer } = stage;
  const from = parent.layer;
  layer.working_dir = from.working_dir;
  layer.runtime_user = from.runtime_user;
  layer.entrypoint = from.entrypoint;
  layer.cmd = from.cmd;
  layer.labels = { ...from.labels };
  layer.volumes = [...from.volumes];
}

/** `--platform=os/arch` becomes `os` and `arch`; anything else is reported. */
function platform(c: Converter, ins: Instruction, stage: Stage): void {
  for (const flag of ins.flags) {
    const match = /^--platform=([a-z0-9]+)\/([a-z0-9]+)(\/[a-z0-9]+)?$/.exec(flag);
    if (match) {
      stage.layer.os = match[1];
      stage.layer.arch = match[2];
    } else {
      c.skip(ins, `flag ${flag} dropped`);
    }
  }
}

/** RUN: one `sh -e -c '…'` line (`su -p <user> -c '…'` after USER), after the exports. */
export function runInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  if (ins.heredocs.length > 0) {
    c.skip(
      ins,
      'not converted: heredocs are not supported; move the script into a file and import it',
    );
    return;
  }
  for (const flag of ins.flags)
    c.skip(ins, `flag ${flag} dropped (the command itself is converted)`);

  const command = ins.json ? ins.json.map(shellQuote).join(' ') : ins.args;
  const line = replaceArgRefs(command, c.args).replace(/\bmkdir\b(?!\s+-p\b)/g, 'mkdir -p');
  const run = stage.layer.run;
  if (stage.workdir && !stage.inWorkdir) run.push(`cd ${shellQuote(stage.workdir)}`);
  stage.inWorkdir = true;
  for (const [name, value] of stage.env) {
    if (stage.exported.get(name) === value) continue;
    run.push(`export ${name}=${value}`);
    stage.exported.set(name, value);
  }
  run.push(
    stage.user
      ? `su -p ${shellQuote(stage.user)} -c ${singleQuote(line)}`
      : `sh -e -c ${singleQuote(line)}`,
  );
}

/** CMD and ENTRYPOINT: the JSON form as it is, the shell form through /bin/sh -c. */
export function commandInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  const argv = ins.json ?? ['/bin/sh', '-c', ins.args];
  if (ins.keyword === 'CMD') stage.layer.cmd = argv;
  else stage.layer.entrypoint = argv;
}

/** ENV k=v … (or the old `ENV k v`): exported in later run lines of the stage. */
export function envInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  for (const [name, raw] of pairs(c, ins, true)) {
    stage.env.set(name, replaceArgRefs(raw, c.args));
  }
}

/** LABEL k=v …: labels. */
export function labelInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  for (const [name, value] of pairs(c, ins, false)) {
    stage.layer.labels[name] = replaceArgRefs(value, c.args);
  }
}

/**
 * `k=v` pairs of ENV or LABEL, or the old one-pair form `k v…`. With `shell`, values are
 * returned as shell text (as written, which Docker's syntax keeps shell-compatible);
 * otherwise with quotes removed.
 */
function pairs(c: Converter, ins: Instruction, shell: boolean): [string, string][] {
  const words = c.words(ins.args);
  const first = words[0];
  if (!first) throw c.error(ins, `invalid arg - ${ins.args}`);
  if (!first.raw.includes('=')) {
    const rest = ins.args.slice(ins.args.indexOf(first.raw) + first.raw.length).trim();
    if (rest === '')
      throw c.error(ins, `invalid arg - ${ins.args}`, `write ${first.value}=<value>`);
    const value = c
      .words(rest)
      .map((w) => w.value)
      .join(' ');
    return [[first.value, shell ? doubleQuote(value) : value]];
  }
  return words.map((w) => {
    const eq = w.raw.indexOf('=');
    if (eq <= 0) throw c.error(ins, `invalid arg - ${w.raw}`, 'each word must be NAME=value');
    const name = c.words(w.raw.slice(0, eq))[0]?.value ?? '';
    const raw = w.raw.slice(eq + 1);
    return [name, shell ? raw || "''" : (c.words(raw)[0]?.value ?? '')];
  });
}

/** ARG name[=default] …: references become `${{name}}`; defaults go to the substitute file. */
export function argInstruction(c: Converter, ins: Instruction): void {
  for (const { value } of c.words(ins.args)) {
    const eq = value.indexOf('=');
    const name = eq < 0 ? value : value.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw c.error(ins, `invalid arg - ${value}`);
    if (eq >= 0) {
      c.substitutions.set(name, value.slice(eq + 1));
      c.args.set(name, `\${{${name}}}`);
    } else if (!c.args.has(name)) {
      // Without a default, Docker uses an empty value unless --build-arg gives one.
      c.args.set(name, `\${{${name}:}}`);
    }
  }
}

/** WORKDIR d: `mkdir -p d` and `cd d` in the run script, and `working_dir`. */
export function workdirInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  const dir = replaceArgRefs(
    c
      .words(ins.args)
      .map((w) => w.value)
      .join(' '),
    c.args,
  );
  stage.workdir = posix.resolve(stage.workdir || '/', dir);
  stage.layer.run.push(`mkdir -p ${shellQuote(stage.workdir)}`, `cd ${shellQuote(stage.workdir)}`);
  stage.inWorkdir = true;
  stage.layer.working_dir = stage.workdir;
}

/** USER u[:g]: later run lines go through `su -p u`; `runtime_user` for the image. */
export function userInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  const value = replaceArgRefs(c.words(ins.args)[0]?.value ?? '', c.args);
  stage.user = value.split(':')[0];
  stage.layer.runtime_user = value;
}

/** VOLUME p … (or a JSON list): `volumes`. */
export function volumeInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  const paths = ins.json ?? c.words(ins.args).map((w) => w.value);
  stage.layer.volumes.push(...paths.map((p) => replaceArgRefs(p, c.args)));
}

/** MAINTAINER m: the `org.opencontainers.image.authors` annotation (comma-joined). */
export function maintainerInstruction(c: Converter, ins: Instruction): void {
  const annotations = c.current(ins).layer.annotations;
  const key = 'org.opencontainers.image.authors';
  annotations[key] = annotations[key] ? `${annotations[key]},${ins.args}` : ins.args;
}

/** COPY [--from=s] [--chown=u[:g]] [--chmod=m] src… dest: one `imports` entry per source. */
export function copyInstruction(c: Converter, ins: Instruction): void {
  const stage = c.current(ins);
  if (ins.heredocs.length > 0) {
    c.skip(
      ins,
      'not converted: heredocs are not supported; put the content in a file and import it',
    );
    return;
  }
  const items = (ins.json ?? c.words(ins.args).map((w) => w.value)).map((v) =>
    replaceArgRefs(v, c.args),
  );
  if (items.length < 2) {
    c.skip(ins, 'not converted: COPY needs a source and a destination');
    return;
  }
  const sources = items.slice(0, -1);
  let dest = items[items.length - 1] as string;
  const dirDest = dest.endsWith('/') || sources.length > 1;
  dest = posix.resolve(stage.workdir || '/', dest) + (dirDest && dest !== '/' ? '/' : '');

  const base = copyFlags(c, ins, dest);
  if (!base) return;
  for (const src of sources) {
    if (/[*?[]/.test(src)) {
      c.skip(ins, `source ${src} not converted: wildcards are not supported; list the files`);
      continue;
    }
    const path = base.from ? `stacker://${base.from}/${src.replace(/^\/+/, '')}` : src;
    stage.layer.imports.push({ path, ...base.entry });
  }
}

/** The flags of COPY as import fields; undefined (reported) when the copy cannot be made. */
function copyFlags(c: Converter, ins: Instruction, dest: string) {
  const entry: Omit<ImportOut, 'path'> = { dest };
  let from: string | undefined;
  for (const flag of ins.flags) {
    const [name, value = ''] = flag.split(/=(.*)/s) as [string, string?];
    if (name === '--from') {
      const stage = c.findStage(value);
      if (!stage) {
        c.skip(
          ins,
          `not converted: copying from image ${value} is not supported; make it a layer first`,
        );
        return undefined;
      }
      from = stageRef(stage);
    } else if (name === '--chown' && /^\d+(:\d+)?$/.test(value)) {
      const [uid, gid] = value.split(':');
      entry.uid = Number(uid);
      if (gid !== undefined) entry.gid = Number(gid);
    } else if (name === '--chmod' && /^[0-7]{3,4}$/.test(value)) {
      entry.mode = Number.parseInt(value, 8);
    } else if (name !== '--link') {
      c.skip(ins, `flag ${flag} dropped (only numeric --chown and octal --chmod are converted)`);
    }
  }
  return { entry, from };
}
