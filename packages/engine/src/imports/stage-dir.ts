import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Location, StackerError, wrapError } from '../errors';
import type { Logger } from '../log';
import type { Import } from '../parse/types';
import type { Acquired } from './acquire';
import { copyMessage } from './copy-message';
import { mirrorChildren, mirrorEntry } from './mirror';
import { placeImport } from './placement';
import type { ImportSource } from './source';
import type { CopyAttrs, CopyStats } from './types';

/** The run step writes its script into the staging dir under this name. */
export const RUN_SCRIPT_NAME = '.stacker-run.sh';

/** Which import owns each top-level name of the staging dir in this build. */
export type Claims = Map<string, { path: string }>;

/**
 * Copies an import without `dest` into the layer's staging dir `dir`, keeping an identical
 * earlier copy, and records the top-level names it occupies in `claims` so stale entries can
 * be told apart afterwards. A `d/` directory import merges its contents into `dir`; unlike
 * stacker, each merged entry is claimed, so the stale cleanup keeps them and the cache sees
 * them. Two different imports staged under the same name are an error (in stacker the later
 * silently replaced the earlier).
 */
export function stageIntoImportsDir(args: StageIntoDirArgs): void {
  const { imp, acquired, source, dir, claims, attrs, where, log } = args;
  const { rel } = placeImport({ imp, name: acquired.name, isDir: source.kind === 'dir' });
  const names = rel === '' ? readdirSync(source.path) : [rel];
  claimNames({ names, imp, claims, where });

  const stats: CopyStats = { changed: 0, removed: 0 };
  try {
    if (rel === '') mirrorChildren({ source: source.path, target: dir, attrs, stats });
    else mirrorEntry({ source: source.path, target: join(dir, rel), attrs, stats });
  } catch (err) {
    throw wrapError(err, `couldn't copy import ${imp.path}`, where);
  }
  log.info(copyMessage({ imp, source, stats }));
}

interface StageIntoDirArgs {
  imp: Import;
  acquired: Acquired;
  source: ImportSource;
  /** `$SD/imports/<layer>`, existing. */
  dir: string;
  claims: Claims;
  attrs: CopyAttrs;
  where: Location;
  log: Logger;
}

function claimNames({ names, imp, claims, where }: ClaimArgs): void {
  for (const name of names) {
    if (name === RUN_SCRIPT_NAME) {
      throw new StackerError(
        `import ${imp.path} would be staged as ${RUN_SCRIPT_NAME}, the name of the run script`,
        where,
        'rename the file, or give the import a dest',
      );
    }
    const earlier = claims.get(name);
    if (earlier && earlier.path !== imp.path) {
      throw new StackerError(
        `imports ${earlier.path} and ${imp.path} would both be staged as '${name}'`,
        where,
        'rename one of them, or give one a dest so that it goes straight into the image',
      );
    }
    claims.set(name, { path: imp.path });
  }
}

interface ClaimArgs {
  names: string[];
  imp: Import;
  claims: Claims;
  where: Location;
}
