/**
 * squashfs layer blobs, as stacker makes them: `mksquashfs <dir> <file>`, zstd-compressed
 * when the installed mksquashfs has zstd. The directory is stored as it is on disk, so an
 * overlay upper dir keeps its whiteouts (0:0 character devices) and `user.overlay.opaque`
 * markers: the image is meant to be a lower dir of overlayfs directly, not a tar diff.
 */
import { MEDIA_TYPE_LAYER_SQUASHFS_GZIP, MEDIA_TYPE_LAYER_SQUASHFS_ZSTD } from '../oci/types';
import { helpOffers, runTool, toolEnv } from './tools';

/**
 * Writes the squashfs image of `dir` to `out` (which must not exist) and returns its media
 * type. With `sourceDateEpoch`, mksquashfs (4.4 and later) clamps every time to it and uses
 * it as the image's creation time; mksquashfs sorts directory entries itself and writes the
 * same bytes whatever its thread count, so the same tree gives the same image. The image is
 * padded to 4 KiB, which is where a verity hash tree can start.
 */
export async function makeSquashfs(args: {
  dir: string;
  out: string;
  env: NodeJS.ProcessEnv;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}): Promise<string> {
  const env = toolEnv(args.env, args.sourceDateEpoch);
  const zstd = await hasZstd(env);
  await runTool({
    name: 'mksquashfs',
    args: [args.dir, args.out, '-noappend', '-no-progress', ...(zstd ? ['-comp', 'zstd'] : [])],
    env,
    what: '--layer-type squashfs',
    failure: "couldn't build squashfs",
    signal: args.signal,
  });
  return zstd ? MEDIA_TYPE_LAYER_SQUASHFS_ZSTD : MEDIA_TYPE_LAYER_SQUASHFS_GZIP;
}

/** Whether mksquashfs mentions zstd in its help (stacker's test). */
function hasZstd(env: NodeJS.ProcessEnv): Promise<boolean> {
  return helpOffers({
    name: 'mksquashfs',
    feature: 'zstd',
    test: (help) => help.includes('zstd'),
    env,
    what: '--layer-type squashfs',
  });
}
