import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setfattr, touchAll } from './fixture';
import { describeTree, writeTree } from './helpers';

/**
 * A base tree and the upper dir a real overlayfs mount (with `userxattr`, as the build
 * mounts it) leaves after a `run` deleting, replacing and changing files on top of it.
 * Returns the dirs and the merged view as `describeTree` lines (with xattrs), which is
 * what an image made of [base layer, upper layer] must reproduce. Needs root (mount).
 */
export function makeOverlayChanges(t: TestContext, root: string) {
  const lower = join(root, 'lower');
  const upper = join(root, 'upper');
  const work = join(root, 'work');
  const merged = join(root, 'merged');
  for (const dir of [lower, upper, work, merged]) mkdirSync(dir);
  writeTree(lower, {
    'etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
    'etc/group': 'root:x:0:\n',
    'var/cache/a': 'a',
    'var/cache/sub/b': 'b',
    'usr/bin/tool': 'tool',
    'dev/': '',
  });
  touchAll(lower, 1_600_000_000);

  execFileSync('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lower},upperdir=${upper},workdir=${work},userxattr`,
    merged,
  ]);
  let mounted = true;
  const unmount = () => {
    if (mounted) execFileSync('umount', [merged]);
    mounted = false;
  };
  t.after(unmount);

  // What a run step does: delete, replace a directory, change metadata, add.
  rmSync(join(merged, 'etc/group'));
  rmSync(join(merged, 'var/cache'), { recursive: true });
  mkdirSync(join(merged, 'var/cache'));
  writeFileSync(join(merged, 'var/cache/c'), 'c');
  execFileSync('chmod', ['4755', join(merged, 'usr/bin/tool')]);
  writeFileSync(join(merged, 'added'), 'added');
  chownSync(join(merged, 'added'), 1234, 5678);
  setfattr(join(merged, 'added'), 'user.note', 'kept');
  execFileSync('mknod', [join(merged, 'dev/null'), 'c', '1', '3']);
  execFileSync('ln', [join(merged, 'added'), join(merged, 'added-link')]);

  const view = describeTree(merged, { xattrs: true });
  unmount();
  return { lower, upper, merged, view };
}
