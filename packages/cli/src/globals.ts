import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { StackerError } from '@nx-stacker/engine';
import { parse } from 'yaml';

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
  'internal-userns'?: boolean;
}

/** The three storage dirs, resolved as stacker resolves them. */
export interface Dirs {
  stackerDir: string;
  ociDir: string;
  rootsDir: string;
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
  };
}

interface ConfigFile {
  work_dir?: string;
  stacker_dir?: string;
  oci_dir?: string;
  rootfs_dir?: string;
}

/** Reads stacker's conf.yaml; a missing or unreadable file counts as empty, bad YAML fails. */
function readConfig(path: string | undefined): ConfigFile {
  const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  const file = path ?? join(configHome, 'stacker', 'conf.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return (parse(text) as ConfigFile | null) ?? {};
  } catch (err) {
    throw new StackerError(`couldn't parse config file: ${(err as Error).message}`, {
      file,
    });
  }
}
