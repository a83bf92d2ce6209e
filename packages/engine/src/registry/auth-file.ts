import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StackerError } from '../errors';

/**
 * A user name and password for one registry or server, or an identity token: an OAuth2
 * refresh token that a registry's Bearer token server exchanges for access tokens (what
 * `az acr login` and some credential helpers store instead of a password).
 */
export interface Credentials {
  username: string;
  password: string;
  identityToken?: string;
  /** Where they came from, for messages: `<auth file> (<key>)` or `--username/--password`. */
  source: string;
}

/**
 * The auth files searched, in order, as containers/image (and so stacker) searches them:
 * `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `$XDG_CONFIG_HOME/containers/auth.json` (default `~/.config`), then Docker's
 * `config.json` in `$DOCKER_CONFIG` (default `~/.docker`).
 */
export function authFilePaths(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'));
  paths.push(join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json'));
  return paths;
}

/**
 * Finds credentials for `key`, `<registry>/<repository>` for an image or `<host><path>` for
 * a download. In each file in order: a credential helper the file names for the registry
 * (`credHelpers`, asked as Docker's helpers are: `docker-credential-<name> get`), then the
 * longest entry of `auths` that is `key` or one of its parents at a `/` (`reg/a/b`, then
 * `reg/a`, then `reg`), then legacy entries written as urls (`https://index.docker.io/v1/`)
 * whose host is the registry, then Docker's default helper (`credsStore`), which Docker
 * Desktop and `docker login` on many machines use for every registry (containers/image, and so
 * stacker, never asks it); the first file with a match wins. Missing files are skipped; an
 * unreadable or malformed one is an error naming it (never its content).
 */
export function findCredentials(key: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  const candidates = keyCandidates(key.replace(/\/+$/, ''));
  const registry = candidates[candidates.length - 1] as string;
  for (const file of authFilePaths(env)) {
    const contents = readAuthFile(file);
    if (!contents) continue;
    const helper = contents.credHelpers?.[registry];
    if (helper) {
      const found = askHelper({ helper, registry, file, env, setting: 'credHelpers' });
      if (found) return found;
    }
    const auths = contents.auths ?? {};
    for (const candidate of candidates) {
      const entry = auths[candidate];
      // An empty entry (`{}`) is what Docker writes when a store keeps the secret.
      const found = entry && decodeEntry(entry, file, candidate);
      if (found) return found;
    }
    for (const [name, entry] of Object.entries(auths)) {
      if (legacyHost(name) !== registry) continue;
      const found = decodeEntry(entry, file, name);
      if (found) return found;
    }
    if (contents.credsStore) {
      const found = askHelper({
        helper: contents.credsStore,
        registry,
        server: registry === 'docker.io' ? DOCKER_HUB_SERVER : registry,
        file,
        env,
        setting: 'credsStore',
      });
      if (found) return found;
    }
  }
  return undefined;
}

/** The name Docker's helpers store Docker Hub's credentials under. */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/** `a/b/c` -> [`a/b/c`, `a/b`, `a`]. */
function keyCandidates(key: string): string[] {
  const out = [key];
  for (let slash = key.lastIndexOf('/'); slash > 0; slash = key.lastIndexOf('/', slash - 1)) {
    out.push(key.slice(0, slash));
  }
  return out;
}

/** `https://index.docker.io/v1/` -> `docker.io`; other url-style keys -> their host. */
function legacyHost(name: string): string | undefined {
  if (!/^https?:\/\//.test(name)) return undefined;
  const host = name.replace(/^https?:\/\//, '').split('/')[0];
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function readAuthFile(file: string): AuthFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StackerError(`couldn't read auth file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    return parsed as AuthFile;
  }
  // The parser's message may quote the file, passwords included: say only where.
  throw new StackerError(
    `auth file ${file} is not a JSON object`,
    {},
    'fix or remove it; it should look like {"auths": {"registry": {"auth": "<base64>"}}}',
  );
}

function decodeEntry(entry: AuthEntry, file: string, key: string): Credentials | undefined {
  const source = `${file} (${key})`;
  const token = entry.identitytoken ? { identityToken: entry.identitytoken } : {};
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password, source, ...token };
  }
  // An identity token needs no `auth` beside it (logins write a placeholder user there).
  if (!entry.auth)
    return entry.identitytoken ? { username: '', password: '', source, ...token } : undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new StackerError(
      `the entry ${key} of auth file ${file} is not base64 of <user>:<password>`,
      {},
      'log in again (skopeo login) or fix the entry',
    );
  }
  return {
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    source,
    ...token,
  };
}

/** What a credential helper prints for `get`. */
interface HelperAnswer {
  Username?: string;
  Secret?: string;
}

/**
 * Asks `docker-credential-<helper>` (found on the PATH of `env`) for the registry's
 * credentials: the server name (`server`, default the registry) on stdin, JSON on stdout. A
 * helper that has none for it (Docker's helpers then say "credentials not found") gives
 * undefined; any other failure is an error naming the helper and the file that named it.
 * Nothing the helper printed on stdout is ever quoted, since it holds the secret.
 */
function askHelper(args: {
  helper: string;
  registry: string;
  server?: string;
  file: string;
  env: NodeJS.ProcessEnv;
  /** The setting of `file` that named the helper: `credHelpers` or `credsStore`. */
  setting: 'credHelpers' | 'credsStore';
}): Credentials | undefined {
  const { helper, registry, file, env, setting } = args;
  const server = args.server ?? registry;
  const program = `docker-credential-${helper}`;
  const where = `${program} (${setting} of ${file}, for ${registry})`;
  let stdout: string;
  try {
    stdout = execFileSync(program, ['get'], {
      input: server,
      env,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
    if (e.code === 'ENOENT') {
      // A default store copied along with a config file from another machine (Docker
      // Desktop's `desktop`, say) must not stop pulls that need no credentials.
      if (setting === 'credsStore') return undefined;
      throw new StackerError(
        `credential helper ${program} is not installed`,
        {},
        `install it (it must be on PATH) or remove "${registry}" from credHelpers in ${file}`,
      );
    }
    const said = `${e.stderr ?? ''}\n${e.stdout ?? ''}`;
    if (/credentials not found/i.test(said)) return undefined;
    const reason = (e.stderr ?? '').trim().split('\n')[0]?.slice(0, 200) || e.message;
    throw new StackerError(
      `credential helper ${where} failed: ${reason}`,
      {},
      `check that \`echo ${server} | ${program} get\` works, e.g. that you are logged in`,
    );
  }
  let answer: HelperAnswer;
  try {
    answer = JSON.parse(stdout) as HelperAnswer;
  } catch {
    throw new StackerError(
      `credential helper ${where} did not answer with JSON`,
      {},
      'it should print {"Username": "...", "Secret": "..."}',
    );
  }
  if (!answer.Secret) return undefined;
  // Docker's convention: the user `<token>` means the secret is an identity token.
  if (answer.Username === '<token>') {
    return { username: '', password: '', identityToken: answer.Secret, source: where };
  }
  return { username: answer.Username ?? '', password: answer.Secret, source: where };
}
