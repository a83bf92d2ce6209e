import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { StackerError } from '@nx-stacker/engine';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';

/** stacker's global flags, before the command name. */
export const globalOptions = {
  'work-dir': { type: 'string' },
  'stacker-dir': { type: 'string' },
  'oci-dir': { type: 'string' },
  'roots-dir': { type: 'string' },
  config: { type: 'string' },
  debug: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'log-file': { type: 'string' },
  'log-timestamp': { type: 'boolean' },
  'storage-type': { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  /** Hidden: marks the copy of nx-stacker that main.ts starts in a user namespace. */
  'internal-userns': { type: 'boolean' },
} as const;

export interface GlobalFlags {
  'work-dir'?: string;
  'stacker-dir'?: string;
  'oci-dir'?: string;
  'roots-dir'?: string;
  config?: string;
  debug?: boolean;
  quiet?: boolean;
  'log-file'?: string;
  'log-timestamp'?: boolean;
  'storage-type'?: string;
  progress?: boolean;
  'no-progress'?: boolean;
  'internal-userns'?: boolean;
}

/** The three storage dirs, resolved as stacker resolves them. */
export interface Dirs {
  stackerDir: string;
  ociDir: string;
  rootsDir: string;
  /** `--work-dir` (or the config file's), absolute: the value of `${{STACKER_WORK_DIR}}`. */
  workDir?: string;
}

/**
 * Resolves the stacker, OCI and roots dirs: an explicit flag wins, then the config file
 * (`--config`, default $XDG_CONFIG_HOME/stacker/conf.yaml), then the default under
 * `--work-dir` (or the current directory).
 */
export function resolveDirs(flags: GlobalFlags, cwd: string): Dirs {
  if (flags['storage-type'] && flags['storage-type'] !== 'overlay') {
    throw new StackerError(`unknown storage type ${flags['storage-type']}`, {}, 'use overlay');
  }
  const conf = readConfig(flags.config);
  const workDir = flags['work-dir'] ?? conf.work_dir;
  const pick = (flag: string | undefined, fromConf: string | undefined, def: string) =>
    resolve(cwd, flag ?? fromConf ?? (workDir ? join(workDir, def) : def));
  return {
    stackerDir: pick(flags['stacker-dir'], conf.stacker_dir, '.stacker'),
    ociDir: pick(flags['oci-dir'], conf.oci_dir, 'oci'),
    rootsDir: pick(flags['roots-dir'], conf.rootfs_dir, 'roots'),
    workDir: workDir === undefined ? undefined : resolve(cwd, workDir),
  };
}

interface ConfigFile {
  work_dir?: string;
  stacker_dir?: string;
  oci_dir?: string;
  rootfs_dir?: string;
}

const CONFIG_KEYS = ['work_dir', 'stacker_dir', 'oci_dir', 'rootfs_dir'] as const;

/**
 * Reads stacker's conf.yaml; a missing or unreadable file counts as empty, bad YAML or a
 * value of the wrong type fails with the file and line. Other keys are ignored, as stacker
 * ignores them.
 */
function readConfig(path: string | undefined): ConfigFile {
  const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  const file = path ?? join(configHome, 'stacker', 'conf.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const hint = `conf.yaml is a map with the keys ${CONFIG_KEYS.join(', ')}, each a path`;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const at = (node: { range?: [number, number, number] | null }) => {
    if (!node.range) return { file };
    const pos = lines.linePos(node.range[0]);
    return { file, line: pos.line, column: pos.col };
  };
  const problem = doc.errors[0];
  if (problem) {
    const [line, column] = [problem.linePos?.[0].line, problem.linePos?.[0].col];
    // yaml's first line ends with its own "at line L, column C:", which the location says.
    const what = problem.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
    throw new StackerError(`couldn't parse config file: ${what}`, { file, line, column }, hint);
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return {};
  if (!isMap(root)) {
    throw new StackerError('config file is not a map', at(root), hint);
  }
  const conf: ConfigFile = {};
  for (const key of CONFIG_KEYS) {
    const node = root.get(key, true);
    if (node === undefined || (isScalar(node) && node.value === null)) continue;
    if (!isScalar(node) || typeof node.value !== 'string') {
      throw new StackerError(`config file: '${key}' must be a path`, at(node), hint);
    }
    conf[key] = node.value;
  }
  return conf;
}
