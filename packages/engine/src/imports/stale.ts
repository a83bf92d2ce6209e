import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log';
import { removeEntry } from './remove';
import type { Claims } from './stage-dir';

/**
 * Deletes every entry of the staging dir that no import of this build claimed: files of
 * imports since removed from the stacker file, and the previous run script (the run step
 * writes a new one). Without this the container would still see them.
 */
export function removeStaleImports({
  dir,
  claims,
  log,
}: {
  dir: string;
  claims: Claims;
  log: Logger;
}): void {
  for (const name of readdirSync(dir)) {
    if (claims.has(name)) continue;
    removeEntry({ path: join(dir, name) });
    log.debug(`removed stale import ${join(dir, name)}`);
  }
}
