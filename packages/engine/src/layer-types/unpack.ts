/**
 * Extracting squashfs and erofs layers (bases built by stacker, or by us with
 * `--layer-type squashfs|erofs`) into a content dir, so layers can be built on them. Their
 * trees are already in overlay on-disk format (whiteouts as 0:0 character devices, opaque
 * markers and escaped user xattrs as `user.overlay.*`), so they are copied as they are:
 * ownership, modes, devices, times and every xattr kept. A verity hash tree after the
 * filesystem is ignored; the blob's digest has been checked by the caller.
 */
import { mkdtempSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StackerError } from '../errors';
import { runTool } from './tools';
import type { LayerKind } from './types';

/**
 * Extracts the filesystem image `blobPath` into `target`, an existing empty directory no
 * one else uses. squashfs goes through unsquashfs; erofs is mounted read-only (loop) and
 * copied, because the erofs-utils of Debian 12 cannot extract xattrs, and umounted again
 * whatever happens. Both need root to restore ownership and device nodes.
 */
export async function unpackImageLayer(args: {
  blobPath: string;
  kind: Exclude<LayerKind, 'tar'>;
  target: string;
  env?: NodeJS.ProcessEnv;
}): Promise<void> {
  const env = { PATH: (args.env ?? process.env).PATH ?? '', LC_ALL: 'C' };
  if (args.kind === 'squashfs') {
    await runTool({
      name: 'unsquashfs',
      args: ['-f', '-no-progress', '-d', args.target, args.blobPath],
      env,
      what: 'extracting a squashfs layer',
      failure: "couldn't extract squashfs layer",
      step: 'base',
    });
    return;
  }
  await copyMounted({ ...args, env });
}

/** Mounts an erofs image at a temp dir next to `target`, copies it, and umounts it. */
async function copyMounted(args: {
  blobPath: string;
  target: string;
  env: NodeJS.ProcessEnv;
}): Promise<void> {
  const mnt = mkdtempSync(join(dirname(args.target), '.erofs-mount-'));
  const what = 'extracting an erofs layer';
  try {
    await runTool({
      name: 'mount',
      args: ['-t', 'erofs', '-o', 'ro,loop', args.blobPath, mnt],
      env: args.env,
      what,
      failure: "couldn't mount erofs layer",
      step: 'base',
    }).catch((err: unknown) => {
      throw new StackerError(
        (err as Error).message,
        { step: 'base' },
        'extracting an erofs layer needs root, loop devices and a kernel with erofs',
        { cause: err },
      );
    });
    try {
      await runTool({
        name: 'cp',
        args: ['-a', '--preserve=all', '--no-target-directory', `${mnt}/.`, args.target],
        env: args.env,
        what,
        failure: "couldn't copy erofs layer",
        step: 'base',
      });
    } finally {
      await runTool({
        name: 'umount',
        args: [mnt],
        env: args.env,
        what,
        failure: `couldn't umount ${mnt}`,
        step: 'base',
      });
    }
  } finally {
    try {
      rmdirSync(mnt);
    } catch {
      // Still mounted (the umount failure is what is reported) or already gone.
    }
  }
}
