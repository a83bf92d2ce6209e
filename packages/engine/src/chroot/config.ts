import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BindMount, lxcConfigLines } from '../native/lxc-config';
import type { Layer } from '../parse/types';
import { importsBindMounts, layerBindMounts } from '../run/binds';
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
  const imports = join(stackerDir, 'imports', layer.name);
  return [
    ...(existsSync(imports) ? importsBindMounts(imports, layer) : []),
    ...layerBindMounts(layer, 'chroot'),
  ];
}
