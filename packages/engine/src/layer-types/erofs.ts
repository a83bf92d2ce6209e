/**
 * erofs layer blobs: `mkfs.erofs <file> <dir>`, with the directory stored as it is on disk
 * (whiteouts and opaque markers in overlay format), like squashfs layers.
 */
import { createHash } from 'node:crypto';
import { MEDIA_TYPE_LAYER_EROFS_LZ4HC } from '../oci/types';
import { helpOffers, runTool, toolEnv } from './tools';

/** An uncompressed erofs layer (a mkfs.erofs without lz4hc). */
export const MEDIA_TYPE_LAYER_EROFS = 'application/vnd.stacker.image.layer.erofs';

/**
 * Writes the erofs image of `dir` to `out` and returns its media type. Compressed with
 * lz4hc when mkfs.erofs offers it, so the media type stacker always writes (`erofs+lz4hc`)
 * is true; stacker passes no compression flag and labels uncompressed images lz4hc.
 *
 * With `sourceDateEpoch`, mkfs.erofs clamps every time to it, and the filesystem UUID
 * (random otherwise) is derived from it: mkfs.erofs sorts directory entries itself, so the
 * same tree then gives the same image. Every image of one build shares that UUID, which
 * nothing mounting layers relies on.
 */
export async function makeErofs(args: {
  dir: string;
  out: string;
  env: NodeJS.ProcessEnv;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}): Promise<string> {
  const env = toolEnv(args.env, args.sourceDateEpoch);
  const lz4hc = await hasLz4hc(env);
  const uuid =
    args.sourceDateEpoch === undefined
      ? []
      : ['-U', uuidFrom(`nx-stacker erofs ${args.sourceDateEpoch}`)];
  await runTool({
    name: 'mkfs.erofs',
    args: [...(lz4hc ? ['-zlz4hc'] : []), ...uuid, '--quiet', args.out, args.dir],
    env,
    what: '--layer-type erofs',
    failure: "couldn't build erofs",
    signal: args.signal,
  });
  return lz4hc ? MEDIA_TYPE_LAYER_EROFS_LZ4HC : MEDIA_TYPE_LAYER_EROFS;
}

/** A UUID (version 4 layout) made from the hash of `seed`. */
export function uuidFrom(seed: string | Buffer): string {
  const b = createHash('sha256').update(seed).digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  const cut = [0, 8, 12, 16, 20, 32];
  return cut
    .slice(1)
    .map((end, i) => hex.slice(cut[i], end))
    .join('-');
}

/** Whether mkfs.erofs lists lz4hc among its compressors. */
function hasLz4hc(env: NodeJS.ProcessEnv): Promise<boolean> {
  return helpOffers({
    name: 'mkfs.erofs',
    feature: 'lz4hc',
    test: (help) => /compressors[^\n]*lz4hc/i.test(help),
    env,
    what: '--layer-type erofs',
  });
}
