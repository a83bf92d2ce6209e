import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StackerError } from '../errors';
import { OciLayout } from '../oci/layout';
import type { Descriptor } from '../oci/types';
import { DEFAULT_PATH } from '../run/environment';
import { writeSingleLayerImage } from './single-layer-image';

/**
 * Writes a one-layer busybox image, made offline from a statically linked busybox (Debian's
 * busybox-static), into the OCI layout `ociDir` under `tag`. The image has a shell, the
 * usual applets as symlinks, /etc/passwd and the directories LXC mounts over, so run steps
 * work and leave no mount points behind. Same busybox and SOURCE_DATE_EPOCH, same digest.
 */
export async function writeBusyboxImage(opts: {
  ociDir: string;
  tag: string;
  busybox?: string;
  sourceDateEpoch?: number;
}): Promise<Descriptor> {
  const busybox = opts.busybox ?? '/bin/busybox';
  if (!existsSync(busybox)) {
    throw new StackerError(
      `no busybox at ${busybox}`,
      { step: 'base' },
      'install the busybox-static package (apt-get install busybox-static)',
    );
  }
  const root = mkdtempSync(join(tmpdir(), 'nx-stacker-busybox-'));
  try {
    makeRootfs(root, busybox);
    const { manifest } = await writeSingleLayerImage({
      layout: await OciLayout.open(opts.ociDir, { create: true }),
      dir: root,
      tag: opts.tag,
      xattrs: new Map(),
      sourceDateEpoch: opts.sourceDateEpoch ?? 0,
      config: { Env: [`PATH=${DEFAULT_PATH}`], Cmd: ['/bin/sh'] },
      createdBy: 'nx-stacker busybox base image',
    });
    return manifest;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Lays out the busybox root filesystem in `root`. */
function makeRootfs(root: string, busybox: string): void {
  chmodSync(root, 0o755);
  for (const [dir, mode] of [
    ['bin', 0o755],
    ['sbin', 0o755],
    ['usr/bin', 0o755],
    ['usr/sbin', 0o755],
    ['etc', 0o755],
    ['dev', 0o755],
    ['proc', 0o555],
    ['sys', 0o555],
    ['root', 0o700],
    ['tmp', 0o1777],
    ['var/tmp', 0o1777],
  ] as const) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), mode);
  }
  copyFileSync(busybox, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);

  // Every applet as a symlink, where busybox says it belongs.
  const applets = execFileSync(busybox, ['--list-full']).toString().split('\n').filter(Boolean);
  for (const applet of applets) {
    const path = join(root, applet);
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync('/bin/busybox', path);
  }

  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/hostname'), 'stacker\n');
  writeFileSync(join(root, 'etc/resolv.conf'), '');
}
