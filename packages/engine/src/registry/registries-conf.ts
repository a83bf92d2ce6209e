/**
 * Mirrors and per-registry settings from containers-registries.conf(5), which stacker's
 * image library reads when it pulls: `[[registry]]` tables with `prefix`, `location`,
 * `insecure`, `blocked`, `mirror-by-digest-only` and `[[registry.mirror]]` entries
 * (`location`, `insecure`, `pull-from-mirror`). Short-name settings do not apply to
 * `docker://` references and are ignored, as is the old v1 format.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { StackerError } from '../errors';
import { endpointFor, type ImageReference } from './reference';

/** One registry to pull an image from, mirrors first, the image's own registry last. */
export interface PullSource {
  reference: ImageReference;
  insecure: boolean;
  /** The mirror's location, or undefined for the image's own registry. */
  mirror?: string;
}

type PullFrom = 'all' | 'digest-only' | 'tag-only';
const PULL_FROM: readonly string[] = ['all', 'digest-only', 'tag-only'];

interface RegistryEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: { location: string; insecure: boolean; pullFrom: PullFrom }[];
  file: string;
}

/**
 * The files read, in order: `$CONTAINERS_REGISTRIES_CONF` alone when set, else the user's
 * `~/.config/containers/registries.conf` when it exists, else `/etc/containers/registries.conf`;
 * then the `*.conf` drop-ins of `$CONTAINERS_REGISTRIES_CONF_DIR`, or of
 * `/etc/containers/registries.conf.d` and the user's `registries.conf.d`, sorted by name. An
 * entry of a later file replaces one with the same prefix.
 */
export function registriesConfFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  const userDir = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers');
  let main: string;
  if (env.CONTAINERS_REGISTRIES_CONF) main = env.CONTAINERS_REGISTRIES_CONF;
  else if (existsSync(join(userDir, 'registries.conf'))) main = join(userDir, 'registries.conf');
  else main = '/etc/containers/registries.conf';
  const dirs = env.CONTAINERS_REGISTRIES_CONF_DIR
    ? [env.CONTAINERS_REGISTRIES_CONF_DIR]
    : env.CONTAINERS_REGISTRIES_CONF
      ? []
      : ['/etc/containers/registries.conf.d', join(userDir, 'registries.conf.d')];
  const dropIns = dirs.flatMap((dir) =>
    listDir(dir)
      .filter((name) => name.endsWith('.conf'))
      .sort()
      .map((name) => join(dir, name)),
  );
  return [main, ...dropIns];
}

/**
 * Where to pull `ref` from: the mirrors of the longest matching `[[registry]]` prefix that may
 * serve it (a tag reference is not sent to a digest-only mirror), then its own registry (at
 * the entry's `location`), with `insecure` as the layer says or the entry does. A blocked
 * registry is an error naming the file.
 */
export function pullSources(
  ref: ImageReference,
  insecure: boolean,
  env: NodeJS.ProcessEnv,
): PullSource[] {
  const entry = matchingEntry(ref, readEntries(env));
  if (!entry) return [{ reference: ref, insecure }];
  if (entry.blocked) throw blockedError(entry, ref, 'pulled');
  // What follows the matched prefix; a wildcard prefix matches the registry name alone.
  const matched = entry.prefix.startsWith('*.') ? ref.registry : entry.prefix;
  const rest = `${ref.registry}/${ref.repository}`.slice(matched.length);
  const sources: PullSource[] = [];
  for (const mirror of entry.mirrors) {
    if (mirror.pullFrom === 'digest-only' && !ref.digest) continue;
    if (mirror.pullFrom === 'tag-only' && ref.digest) continue;
    sources.push({
      reference: relocate(ref, `${mirror.location}${rest}`),
      insecure: insecure || mirror.insecure,
      mirror: mirror.location,
    });
  }
  const own = entry.location === entry.prefix ? ref : relocate(ref, `${entry.location}${rest}`);
  sources.push({ reference: own, insecure: insecure || entry.insecure });
  return sources;
}

/**
 * What registries.conf says about pushing to `ref`'s registry, as containers/image applies it:
 * its `insecure` (no mirrors, no location), and `blocked` as an error.
 */
export function pushSettings(ref: ImageReference, env: NodeJS.ProcessEnv): { insecure: boolean } {
  const entry = matchingEntry(ref, readEntries(env));
  if (entry?.blocked) throw blockedError(entry, ref, 'pushed');
  return { insecure: entry?.insecure ?? false };
}

function blockedError(entry: RegistryEntry, ref: ImageReference, verb: string): StackerError {
  return new StackerError(
    `registry ${entry.prefix} is blocked in ${entry.file}, so ${ref.text} cannot be ${verb}`,
    {},
    `use another registry, or remove blocked = true for ${entry.prefix} in ${entry.file}`,
  );
}

/** `ref` with its registry and repository taken from `location` (`host[:port]/path`). */
function relocate(ref: ImageReference, location: string): ImageReference {
  const slash = location.indexOf('/');
  const registry = slash < 0 ? location : location.slice(0, slash);
  const repository = slash < 0 ? ref.repository : location.slice(slash + 1);
  return { ...ref, registry, endpoint: endpointFor(registry), repository };
}

/** The entry whose prefix matches `ref` longest; `*.domain` prefixes match subdomains. */
function matchingEntry(ref: ImageReference, entries: RegistryEntry[]): RegistryEntry | undefined {
  const name = `${ref.registry}/${ref.repository}`;
  let best: RegistryEntry | undefined;
  for (const entry of entries) {
    if (!prefixMatches(entry.prefix, name, ref.registry)) continue;
    if (!best || entry.prefix.length > best.prefix.length) best = entry;
  }
  return best;
}

function prefixMatches(prefix: string, name: string, registry: string): boolean {
  if (prefix.startsWith('*.')) return registry.endsWith(prefix.slice(1));
  return name === prefix || name.startsWith(`${prefix}/`);
}

/** The `[[registry]]` entries of every file, later files replacing earlier prefixes. */
function readEntries(env: NodeJS.ProcessEnv): RegistryEntry[] {
  const byPrefix = new Map<string, RegistryEntry>();
  for (const file of registriesConfFiles(env)) {
    for (const entry of readFile(file)) byPrefix.set(entry.prefix, entry);
  }
  return [...byPrefix.values()];
}

function readFile(file: string): RegistryEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw confError(file, (err as Error).message.split('\n')[0] ?? 'not TOML');
  }
  const tables = doc.registry;
  if (tables === undefined) return [];
  if (!Array.isArray(tables)) throw confError(file, 'registry must be an array of tables');
  return tables.map((table, i) => readEntry(file, i, table));
}

function readEntry(file: string, i: number, table: unknown): RegistryEntry {
  const where = `[[registry]] #${i + 1}`;
  if (!isTable(table)) throw confError(file, `${where} is not a table`);
  const field = fields(file, where, table);
  const location = stripScheme(field.string('location') ?? '');
  const prefix = stripScheme(field.string('prefix') ?? location);
  if (!prefix) throw confError(file, `${where} has neither prefix nor location`);
  if (prefix.startsWith('*.') && location) {
    throw confError(file, `${where}: a wildcard prefix (${prefix}) cannot have a location`);
  }
  const digestOnly = field.bool('mirror-by-digest-only') ?? false;
  const mirrorTables = table.mirror ?? [];
  if (!Array.isArray(mirrorTables)) throw confError(file, `${where}: mirror must be a list`);
  const mirrors = mirrorTables.map((m: unknown, j) => {
    const at = `${where} mirror #${j + 1}`;
    if (!isTable(m)) throw confError(file, `${at} is not a table`);
    const mirrorField = fields(file, at, m);
    const mirrorLocation = stripScheme(mirrorField.string('location') ?? '');
    if (!mirrorLocation) throw confError(file, `${at} has no location`);
    const pullFrom = mirrorField.string('pull-from-mirror') ?? 'all';
    if (!PULL_FROM.includes(pullFrom)) {
      throw confError(file, `${at}: pull-from-mirror must be all, digest-only or tag-only`);
    }
    return {
      location: mirrorLocation,
      insecure: mirrorField.bool('insecure') ?? false,
      pullFrom: digestOnly ? 'digest-only' : (pullFrom as PullFrom),
    };
  });
  return {
    prefix,
    location: location || prefix,
    insecure: field.bool('insecure') ?? false,
    blocked: field.bool('blocked') ?? false,
    mirrors,
    file,
  };
}

/** Typed reads of a table's optional keys; a value of another type is an error naming it. */
function fields(file: string, where: string, table: Record<string, unknown>) {
  const get = (key: string, type: 'string' | 'boolean', says: string) => {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== type) throw confError(file, `${where}: ${key} must be ${says}`);
    return value;
  };
  return {
    string: (key: string) => get(key, 'string', 'a string') as string | undefined,
    bool: (key: string) => get(key, 'boolean', 'true or false') as boolean | undefined,
  };
}

/** Locations are written without a scheme; a stray `https://` and trailing `/` are dropped. */
function stripScheme(location: string): string {
  return location.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function confError(file: string, why: string): StackerError {
  return new StackerError(
    `registries config ${file}: ${why}`,
    {},
    'fix the file (see containers-registries.conf(5)), or point CONTAINERS_REGISTRIES_CONF ' +
      'at another one',
  );
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
