import type { Import } from '../parse/types';
import type { ImportSource } from './source';
import type { CopyStats } from './types';

/**
 * The one info line per import: stacker's `using cached copy of <p>` when nothing had to
 * change, else `copying <p>`, with what changed for directories and where `dest` puts it.
 */
export function copyMessage({
  imp,
  source,
  stats,
}: {
  imp: Import;
  source: ImportSource;
  stats: CopyStats;
}): string {
  if (stats.changed === 0 && stats.removed === 0) return `using cached copy of ${imp.path}`;
  const target = imp.dest === undefined ? '' : ` to ${imp.dest}`;
  const detail =
    source.kind === 'dir' ? ` (${stats.changed} changed, ${stats.removed} removed)` : '';
  return `copying ${imp.path}${target}${detail}`;
}
