import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StackerError } from '../errors';
import { errnoCode, tempPathFor } from '../util/fs';
import { emptyIndex } from './index-json';
import { OCI_LAYOUT_VERSION } from './types';

/**
 * Finding and creating image layouts on disk; OciLayout.open is the only caller.
 * Error messages are stacker's (spec §3.1 step 3), `shown` being the path as the user gave it.
 */

/** What is at `abs`: nothing, an empty dir, a layout, or something else. */
export function inspectDir(
  abs: string,
  shown: string,
): 'missing' | 'empty' | 'layout' | 'not-layout' {
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'missing';
    throw new StackerError(`could not open OCI layout at "${shown}": ${(err as Error).message}`);
  }
  if (!isDir) {
    throw new StackerError(`parameter oci-dir="${shown}" exists but is not a directory.`);
  }
  if (existsSync(join(abs, 'index.json'))) return 'layout';
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch (err) {
    throw new StackerError(`could not open OCI layout at "${shown}": ${(err as Error).message}`);
  }
  return entries.length === 0 ? 'empty' : 'not-layout';
}

/**
 * Builds a complete empty layout in a sibling temp dir (`tempPathFor`) and renames it to
 * `abs`. rename(2) replaces an empty directory and fails on a non-empty one, so if another
 * process created the layout first we drop ours and use theirs. An empty `abs` that is a
 * mount point (a volume given as the OCI dir) cannot be replaced: the layout is then made in
 * place.
 */
export async function createLayout(abs: string, shown: string): Promise<void> {
  const tmp = tempPathFor(abs);
  try {
    await mkdir(join(tmp, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(
      join(tmp, 'oci-layout'),
      JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }),
    );
    writeFileSync(join(tmp, 'index.json'), JSON.stringify(emptyIndex()));
    try {
      renameSync(tmp, abs);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EBUSY') return createInPlace(abs);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (!existsSync(join(abs, 'index.json'))) {
        throw new Error('the directory was filled with something else meanwhile');
      }
    }
  } catch (err) {
    throw new StackerError(
      `could not create layout at "${shown}": ${(err as Error).message}`,
      {},
      undefined,
      { cause: err },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Makes the existing empty dir `abs` a layout. index.json, whose presence is what makes a
 * layout (see inspectDir), comes last and is created with link(2), which fails rather than
 * replace an index another process created meanwhile.
 */
function createInPlace(abs: string): void {
  mkdirSync(join(abs, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(
    join(abs, 'oci-layout'),
    JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }),
  );
  const tmp = tempPathFor(join(abs, 'index.json'));
  writeFileSync(tmp, JSON.stringify(emptyIndex()));
  try {
    linkSync(tmp, join(abs, 'index.json'));
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}
