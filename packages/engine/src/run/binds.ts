/**
 * The bind mounts of a layer's container, shared by its `run` step and `chroot`: the staged
 * imports read-only at /stacker/imports (and /stacker itself for the deprecated `import:`),
 * then the layer's own `binds`, read-write as in stacker unless written with `hash: true`.
 */
import { existsSync, statSync } from 'node:fs';
import { StackerError } from '../errors';
import type { BindMount } from '../native/lxc-config';
import type { Layer } from '../parse/types';

/** In-container directory holding the imports (the deprecated `import:` used `/.stacker`). */
export function importsMount(layer: Layer): string {
  return layer.legacyImport ? '/.stacker/imports' : '/stacker/imports';
}

/** The staging dir `importsDir` mounted where the layer's script finds its imports. */
export function importsBindMounts(importsDir: string, layer: Layer): BindMount[] {
  const mounts = [{ source: importsDir, dest: importsMount(layer), readOnly: true, isDir: true }];
  if (layer.legacyImport) {
    mounts.push({ source: importsDir, dest: '/stacker', readOnly: true, isDir: true });
  }
  return mounts;
}

/**
 * The layer's `binds` as mounts. A hashed bind is read-only: its content is part of the
 * layer's cache key, so the script must not change it. A missing source fails, located at
 * the bind, with stacker's wording.
 */
export function layerBindMounts(layer: Layer, step: 'run' | 'chroot'): BindMount[] {
  return layer.binds.map((b) => {
    if (!existsSync(b.source)) {
      throw new StackerError(
        `bind mount source "${b.source}" does not exist, refusing bind mount`,
        { file: layer.file, ...b.pos, layer: layer.name, directive: 'binds', step },
        'create the directory on the host or fix the path',
      );
    }
    const isDir = statSync(b.source).isDirectory();
    return { source: b.source, dest: b.dest, readOnly: b.hash === true, isDir };
  });
}
