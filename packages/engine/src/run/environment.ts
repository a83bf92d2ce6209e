import { StackerError } from '../errors';
import type { Layer } from '../parse/types';

/** Host variables a `run` step sees when the layer does not say otherwise (stacker's list). */
export const DEFAULT_PASSTHROUGH = [
  'ftp_proxy',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'FTP_PROXY',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'TERM',
  'SOURCE_DATE_EPOCH',
];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment of a layer's `run` step, in order: PATH first, then host variables matched
 * by `build_env_passthrough` (each pattern anchored at both ends), then `build_env`, then
 * STACKER_LAYER_NAME. Later entries replace earlier ones; empty values are dropped.
 *
 * Unlike stacker, each pattern is wrapped in a group before anchoring, so `A|B` means exactly
 * A or B rather than "starts with A or ends with B".
 */
export function runEnvironment(layer: Layer, hostEnv: NodeJS.ProcessEnv): [string, string][] {
  const patterns = layer.buildEnvPassthrough?.length
    ? layer.buildEnvPassthrough
    : DEFAULT_PASSTHROUGH;
  const matchers = patterns.map((p) => {
    try {
      return new RegExp(`^(?:${p})$`);
    } catch (err) {
      throw new StackerError(
        `invalid build_env_passthrough pattern ${JSON.stringify(p)}: ${(err as Error).message}`,
        {
          file: layer.file,
          ...layer.directivePos?.build_env_passthrough,
          layer: layer.name,
          directive: 'build_env_passthrough',
          step: 'run',
        },
        'each entry is matched against whole variable names as (?:entry): balance its ' +
          'parentheses',
      );
    }
  });

  const env = new Map<string, string>([['PATH', DEFAULT_PATH]]);
  for (const name of Object.keys(hostEnv).sort()) {
    const value = hostEnv[name];
    if (value !== undefined && matchers.some((m) => m.test(name))) env.set(name, value);
  }
  for (const [name, value] of Object.entries(layer.buildEnv)) env.set(name, value);
  env.set('STACKER_LAYER_NAME', layer.name);
  return [...env].filter(([, value]) => value !== '');
}

/**
 * The script a `run` step executes: the lines joined, after a `#!/bin/sh -xe` line unless the
 * first line is a shebang of its own (so by default every command is traced and the first
 * failure stops the step).
 */
export function runScript(lines: string[]): string {
  const body = lines.join('\n');
  return lines[0]?.startsWith('#!') ? `${body}\n` : `#!/bin/sh -xe\n${body}\n`;
}
