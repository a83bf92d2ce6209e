import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerKind } from '../layer-types/types';
import type { Descriptor } from '../oci/types';
import { errnoCode, writeFileAtomic } from '../util/fs';
import { CACHE_VERSION, type KeyParts } from './key';

/** What building a layer produced. */
export interface LayerResult {
  name: string;
  buildOnly: boolean;
  /**
   * The image manifest in the OCI dir. A build_only layer has one too, never tagged, so that
   * layers built on it start from a real image.
   */
  manifest: Descriptor;
  /**
   * The manifest of every layer type the build asked for (`manifest` is the first type's).
   * Absent in entries written before other layer types existed: those are tar only.
   */
  manifests?: Partial<Record<LayerKind, Descriptor>>;
  /** build_only layers: how much of their image is their published ancestor's (collapse.ts). */
  published?: PublishedPrefix;
}

/** The leading layers and history entries of an image that belong to another image. */
export interface PublishedPrefix {
  layers: number;
  history: number;
}

/** Every image of a result, by layer kind (the first type's first). */
export function resultManifests(result: LayerResult): [LayerKind, Descriptor][] {
  const typed = Object.entries(result.manifests ?? {}) as [LayerKind, Descriptor][];
  return typed.length ? typed : [['tar', result.manifest]];
}

/** One cached build of one layer, stored as `<stacker dir>/cache/<key>.json`. */
export interface CacheEntry {
  version: number;
  key: string;
  /** Absolute path of the stacker file and name of the layer this was built for. */
  file: string;
  name: string;
  parts: KeyParts;
  result: LayerResult;
}

/**
 * The build cache: one JSON file per key, written atomically, so builds running at the same
 * time never lose each other's entries and no lock is needed. Unlike stacker's single
 * `build.cache`, entries are found by the hash of their inputs, never by layer name alone.
 * For each (file, layer) only the newest entry is kept.
 */
export class BuildCache {
  readonly dir: string;
  private readonly warned = new Set<string>();

  /** `warn`: told about entries that cannot be read (they count as absent). */
  constructor(
    stackerDir: string,
    private readonly warn?: (message: string) => void,
  ) {
    this.dir = join(stackerDir, 'cache');
  }

  /**
   * The entry stored under `key`, or undefined. Unreadable or old-format entries count as
   * absent.
   */
  get(key: string): CacheEntry | undefined {
    return this.read(join(this.dir, `${key}.json`));
  }

  /** The newest entry for a layer whatever its key: what we compare against to explain a miss. */
  latestFor(file: string, name: string): CacheEntry | undefined {
    return this.entries().find((e) => e.file === file && e.name === name);
  }

  /** Stores `entry` and forgets older entries of the same layer. */
  put(entry: Omit<CacheEntry, 'version'>): void {
    mkdirSync(this.dir, { recursive: true });
    const full: CacheEntry = { version: CACHE_VERSION, ...entry };
    for (const old of this.entries()) {
      if (old.file === entry.file && old.name === entry.name && old.key !== entry.key) {
        rmSync(join(this.dir, `${old.key}.json`), { force: true });
      }
    }
    writeFileAtomic(join(this.dir, `${entry.key}.json`), `${JSON.stringify(full, null, 2)}\n`);
  }

  /** Every readable entry. */
  entries(): CacheEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => this.read(join(this.dir, n)))
      .filter((e): e is CacheEntry => e !== undefined);
  }

  private read(path: string): CacheEntry | undefined {
    try {
      const entry = JSON.parse(readFileSync(path, 'utf8')) as CacheEntry;
      return entry.version === CACHE_VERSION ? entry : undefined;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && !this.warned.has(path)) {
        this.warned.add(path);
        this.warn?.(`ignoring unreadable cache entry ${path}: ${(err as Error).message}`);
      }
      return undefined;
    }
  }
}
