/** The client side of the test servers: credentials, skopeo against a registry, a build's env. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestRegistry } from './docker-registry';

// Async on purpose: a token server in this process must keep answering while skopeo runs.
const run = promisify(execFile);

/** One user's name and password. */
export interface Credentials {
  user: string;
  password: string;
}

/** An auth.json (containers format) in `dir` with the given entries; returns its path. */
export function writeAuthFile(dir: string, entries: Record<string, Credentials>): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [key, { user, password }] of Object.entries(entries)) {
    auths[key] = { auth: Buffer.from(`${user}:${password}`).toString('base64') };
  }
  const path = join(dir, `auth-${Object.keys(entries).length}-${Date.now()}.json`);
  writeFileSync(path, JSON.stringify({ auths }), { mode: 0o600 });
  return path;
}

/** The env of a build that talks to the test servers: fixed time, HOME `home`, `authFile`. */
export function clientEnv(
  home: string,
  authFile?: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const auth = authFile === undefined ? {} : { REGISTRY_AUTH_FILE: authFile };
  return { SOURCE_DATE_EPOCH: '1700000000', HOME: home, ...auth, ...extra };
}

/** `skopeo copy` from `oci:<layout>:<tag>` to `docker://<host>/<dest>` (all platforms). */
export async function seed(args: {
  layout: string;
  tag: string;
  registry: TestRegistry;
  dest: string;
  authFile?: string;
  /** `v2s2`: push a Docker schema 2 manifest instead of the layout's OCI one. */
  format?: 'v2s2';
}): Promise<void> {
  const flags = ['--dest-tls-verify=false', '--all'];
  if (args.format) flags.push('--format', args.format);
  if (args.authFile) flags.push('--dest-authfile', args.authFile);
  const to = `docker://${args.registry.host}/${args.dest}`;
  await run('skopeo', ['copy', ...flags, `oci:${args.layout}:${args.tag}`, to]);
}

/** The digest of the manifest (or index) `docker://<host>/<ref>` as skopeo reads it. */
export async function skopeoDigest(
  registry: TestRegistry,
  ref: string,
  authFile?: string,
): Promise<string> {
  const flags = ['--tls-verify=false', '--raw'];
  if (authFile) flags.push('--authfile', authFile);
  const { stdout } = await run(
    'skopeo',
    ['inspect', ...flags, `docker://${registry.host}/${ref}`],
    { encoding: 'buffer' },
  );
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}
