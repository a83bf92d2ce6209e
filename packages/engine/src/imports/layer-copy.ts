import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import type { SourceImage } from '../bases/resolve';
import { StackerError } from '../errors';
import { type UnionEntry, UnionView } from '../grab/union';
import type { Roots } from '../storage/roots';

/**
 * The filesystem of a built image as its `run` step saw it, read straight from its extracted
 * layers in the roots dir (extracted first when needed) through grab's UnionView: overlayfs's
 * rules without a mount and without a container (stacker copies `stacker://` sources out of a
 * container started on a snapshot of the layer, which needs no shell but costs a container).
 */
export async function imageView({
  image,
  roots,
}: {
  image: SourceImage;
  roots: Roots;
}): Promise<UnionView> {
  const dirs: string[] = [];
  for (const desc of image.manifest.layers) {
    dirs.push(await roots.ensureExtracted(desc, image.layout.blobPath(desc.digest)));
  }
  return new UnionView(dirs.reverse());
}

/**
 * Copies an entry of a view (file, symlink, or directory as merged across the layers) to
 * `target`, which must not exist. Modes (setuid bits included) and mtimes are kept; owners are
 * not: staging gives every entry the import's `uid`/`gid` anyway. Symlinks are copied as
 * links. Devices, fifos and sockets cannot be imported and fail, naming the image path (grab
 * skips them instead: it copies for a person, this copies into an image).
 */
export async function copyOut(view: UnionView, entry: UnionEntry, target: string): Promise<void> {
  if (entry.kind === 'dir') {
    mkdirSync(target, { mode: 0o700 });
    for (const [name, child] of await view.list(entry)) {
      await copyOut(view, child, join(target, name));
    }
    const top = lstatSync(view.hostPath(entry));
    chmodSync(target, top.mode & 0o7777);
    utimesSync(target, top.atime, top.mtime);
    return;
  }
  if (entry.kind === 'symlink') {
    symlinkSync(readlinkSync(entry.hostPath), target);
    return;
  }
  if (entry.kind === 'file') {
    copyFileSync(entry.hostPath, target);
    chmodSync(target, entry.stats.mode & 0o7777);
    utimesSync(target, entry.stats.atime, entry.stats.mtime);
    return;
  }
  throw new StackerError(
    `/${entry.rel} is a device, fifo or socket; only files, directories and symlinks can be ` +
      'imported',
    {},
    'import the files around it one by one',
  );
}
