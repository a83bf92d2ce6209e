import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';
import { type BindMount, lxcConfigLines } from '../native/lxc-config';
import type { Layer } from '../parse/types';
import { DEFAULT_PATH, runEnvironment } from '../run/environment';

/**
 * The LXC config lines of a chroot container: stacker's base config and, when the layer's
 * definition is known, what its `run` step saw (spec 5.3): the imports staged by its last
 * build read-only at /stacker/imports (when they are still there), its environment and its
 * binds. Without a definition (best-effort chroot) only TERM is passed on, so that an
 * interactive shell works. Creates the rootfs pivot dir LXC needs.
 */
export function chrootConfigLines(opts: {
  stackerDir: string;
  layer?: Layer;
  env: NodeJS.ProcessEnv;
}): string[] {
  const { layer } = opts;
  const pivot = join(opts.stackerDir, 'rootfsPivot');
  mkdirSync(pivot, { recursive: true, mode: 0o755 });

  const env: [string, string][] = layer
    ? runEnvironment(layer, opts.env).filter(([k, v]) => k !== 'PATH' || v !== DEFAULT_PATH)
    : opts.env.TERM
      ? [['TERM', opts.env.TERM]]
      : [];
  return lxcConfigLines({
    hostname: 'stacker',
    rootfsMount: pivot,
    env,
    binds: layer ? layerBinds(opts.stackerDir, layer) : [],
  });
}

/** The staged imports (if a build left them) and the layer's own binds. */
function layerBinds(stackerDir: string, layer: Layer): BindMount[] {
  const binds: BindMount[] = [];
  const imports = join(stackerDir, 'imports', layer.name);
  if (existsSync(imports)) {
    const dest = layer.legacyImport ? '/.stacker/imports' : '/stacker/imports';
    binds.push({ source: imports, dest, readOnly: true, isDir: true });
    if (layer.legacyImport) {
      binds.push({ source: imports, dest: '/stacker', readOnly: true, isDir: true });
    }
  }

  for (const b of layer.binds) {
    if (!existsSync(b.source)) {
      throw new StackerError(
        `bind mount source "${b.source}" does not exist, refusing bind mount`,
        { file: layer.file, ...b.pos, layer: layer.name, directive: 'binds', step: 'chroot' },
        'create the directory on the host or fix the path',
      );
    }
    const isDir = statSync(b.source).isDirectory();
    binds.push({ source: b.source, dest: b.dest, readOnly: false, isDir });
  }
  return binds;
}
