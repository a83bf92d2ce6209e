/**
 * /etc/subuid and /etc/subgid: which host ids a user may map into a user namespace, and the
 * namespace map a rootless build uses. Pure functions of the files' text; reading the files
 * is the caller's business (see user-namespace.ts and unpriv-setup.ts).
 */
import { StackerError } from '../errors';
import type { IdMapping } from '../native/runner';

/** One line of /etc/subuid or /etc/subgid: `owner` may use host ids start..start+count-1. */
export interface SubordinateRange {
  /** A user (or group) name, or a numeric id: both forms are valid in these files. */
  owner: string;
  start: number;
  count: number;
}

/** The first id unpriv-setup hands out, and the size of each range (as stacker does). */
export const FIRST_SUBORDINATE_ID = 100000;
export const SUBORDINATE_RANGE_SIZE = 65536;

/**
 * The kernel takes at most 340 lines per map; with the caller's own id first, 339 ranges are
 * left. More ranges than that for one user are ignored (nobody needs that many).
 */
const MAX_MAP_LINES = 340;

/**
 * Parses the text of /etc/subuid or /etc/subgid (`file` names it in errors). Blank lines and
 * `#` comments are skipped; any other line must be `owner:start:count` with decimal numbers
 * and a positive count, else `invalid <file> entry: <line>`.
 */
export function parseSubordinateIds(text: string, file: string): SubordinateRange[] {
  const ranges: SubordinateRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([^:\s]+):(\d+):(\d+)$/.exec(line);
    const start = Number(match?.[2]);
    const count = Number(match?.[3]);
    if (!match || count === 0 || start + count > 2 ** 32) {
      throw new StackerError(
        `invalid ${file} entry: ${line}`,
        { file },
        'each line must be <user>:<first id>:<count>, for example alice:100000:65536',
      );
    }
    ranges.push({ owner: match[1] as string, start, count });
  }
  return ranges;
}

/** The ranges granted to a user, given by name or by numeric id, in file order. */
export function rangesOf(
  ranges: SubordinateRange[],
  user: { name?: string; id: number },
): SubordinateRange[] {
  return ranges.filter((r) => r.owner === user.name || r.owner === `${user.id}`);
}

/**
 * The map of a rootless build's user namespace, as stacker builds it: the caller's own id is
 * namespace id 0 (so what the build writes is the caller's on the host), and the subordinate
 * ranges, in file order, provide namespace ids from 1 on. The first subordinate id sits under
 * the caller's id and stays unused, so namespace id N is host id start+N within the first
 * range (ns uid 1000 is host uid 101000 for a range starting at 100000). A subordinate
 * range that contains the caller's own id is split around it: a host id can be mapped once.
 * Returns an empty list when `ranges` is empty.
 */
export function namespaceMap(ownId: number, ranges: SubordinateRange[]): IdMapping[] {
  if (ranges.length === 0) return [];

  // Host segments without the caller's id, laid out from namespace id 0.
  const map: IdMapping[] = [];
  let nsid = 0;
  for (const r of ranges) {
    for (const [hostid, count] of withoutId(r.start, r.count, ownId)) {
      map.push({ nsid, hostid, count });
      nsid += count;
    }
  }

  // Namespace id 0 becomes the caller's id.
  const first = map[0] as IdMapping;
  if (first.count === 1) map.shift();
  else map[0] = { nsid: 1, hostid: first.hostid + 1, count: first.count - 1 };
  return [{ nsid: 0, hostid: ownId, count: 1 }, ...map].slice(0, MAX_MAP_LINES);
}

/** start..start+count-1 as [start, count] segments that leave out `id`. */
function withoutId(start: number, count: number, id: number): [number, number][] {
  if (id < start || id >= start + count) return [[start, count]];
  const segments: [number, number][] = [];
  if (id > start) segments.push([start, id - start]);
  if (id + 1 < start + count) segments.push([id + 1, start + count - id - 1]);
  return segments;
}

/**
 * Where a new range of SUBORDINATE_RANGE_SIZE ids for a user starts: after every existing
 * range and at least FIRST_SUBORDINATE_ID; moved up by one range size when the user's own
 * id would fall inside it (as stacker's unpriv-setup does).
 */
export function nextRangeStart(existing: SubordinateRange[], ownId: number): number {
  let start = FIRST_SUBORDINATE_ID;
  for (const r of existing) start = Math.max(start, r.start + r.count);
  if (ownId >= start && ownId < start + SUBORDINATE_RANGE_SIZE) start += SUBORDINATE_RANGE_SIZE;
  return start;
}

/** The total number of ids in `ranges`. */
export function idCount(ranges: SubordinateRange[]): number {
  return ranges.reduce((sum, r) => sum + r.count, 0);
}
