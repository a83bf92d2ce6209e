import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { registerBuild } from '../build/activity';
import { StackerError, wrapError } from '../errors';
import { Roots } from '../storage/roots';
import { removeDeadOwned } from '../util/fs';
import { escapeLayerName } from '../util/layer-name';
import { OWNER_TAG, ownerTag } from '../util/process';
import type { BuiltLayer } from './built-layer';

/** Prefix of temporary snapshot dirs in the roots dir (stacker's name for them). */
export const SNAPSHOT_PREFIX = 'temp-snapshot-';

/** `temp-snapshot-<layer>-<owner>-<random>`: the owner tag is what matters (see ownerTag). */
const OWNED_SNAPSHOT = new RegExp(`-(${OWNER_TAG})-[0-9a-f]+$`);

/** A writable view of a built layer: its image layers as lowers, an empty upper dir. */
export interface Snapshot {
  /** The snapshot's own dir in the roots dir; removed with everything in it afterwards. */
  dir: string;
  /** Extracted image layers, top-first (overlayfs order); may be empty. */
  lowers: string[];
  upper: string;
  work: string;
  /** Where the runner mounts the stack (inside its private mount namespace). */
  mountDir: string;
}

/**
 * Runs `fn` on a temporary writable snapshot of `layer`: every OCI layer of its image is
 * extracted once into the roots dir (shared with builds) and a fresh upper dir is made in
 * `<roots>/temp-snapshot-<layer>-<pid>-<random>`. Whatever `fn` writes there is discarded:
 * the snapshot dir is removed when `fn` settles, successfully or not (stacker leaks these).
 * While it exists the snapshot counts as a running build, so no gc removes what it uses.
 */
export async function withTemporarySnapshot<T>(
  opts: { rootsDir: string; stackerDir: string; layer: BuiltLayer },
  fn: (snapshot: Snapshot) => Promise<T>,
): Promise<T> {
  const { layer } = opts;
  const roots = new Roots(opts.rootsDir);
  const activity = registerBuild(opts.stackerDir);
  const unique = `${ownerTag()}-${randomBytes(4).toString('hex')}`;
  const dir = join(opts.rootsDir, `${SNAPSHOT_PREFIX}${escapeLayerName(layer.name)}-${unique}`);

  try {
    // Extract the image's layers (once: later snapshots and builds reuse them).
    const bottomFirst: string[] = [];
    for (const desc of layer.manifest.layers) {
      const blob = layer.layout.blobPath(desc.digest);
      try {
        bottomFirst.push(await roots.ensureExtracted(desc, blob));
      } catch (err) {
        throw wrapError(err, `couldn't extract ${desc.digest} of ${layer.name}`, {
          layer: layer.name,
          step: 'snapshot',
        });
      }
    }

    const snapshot: Snapshot = {
      dir,
      lowers: bottomFirst.toReversed(),
      upper: join(dir, 'overlay'),
      work: join(dir, 'work'),
      mountDir: join(dir, 'rootfs'),
    };
    for (const d of [snapshot.upper, snapshot.work, snapshot.mountDir]) {
      mkdirSync(d, { recursive: true });
    }
    return await fn(snapshot);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    activity.done();
  }
}

/**
 * Removes snapshot dirs left in the roots dir by processes that no longer run (killed with
 * SIGKILL, say). Returns the removed paths.
 */
export function removeStaleSnapshots(rootsDir: string): string[] {
  return removeDeadOwned(rootsDir, OWNED_SNAPSHOT, SNAPSHOT_PREFIX).map((n) => join(rootsDir, n));
}

/**
 * Snapshots are used through overlay mounts and LXC, which need root, real or of a user
 * namespace (rootless: the CLI enters one itself); say so up front.
 */
export function requireRoot(command: string): void {
  if (process.geteuid?.() === 0) return;
  throw new StackerError(
    `${command} needs root: it mounts an overlay stack and starts an LXC container`,
    { step: command },
    'use the nx-stacker command, which runs rootless in a user namespace for users with ' +
      '/etc/subuid ranges, or run it as root',
  );
}
