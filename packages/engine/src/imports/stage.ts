import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { wrapError } from '../errors';
import type { Logger } from '../log';
import type { Layer } from '../parse/types';
import { acquireImport } from './acquire';
import { copyAttrsFor } from './attrs';
import { baseDestResolver, followBaseSymlinks } from './base-paths';
import { digestOf } from './digest';
import { importLocation } from './location';
import { stageOverlayDirs } from './overlay-dirs';
import { removeEntry } from './remove';
import { inspectSource } from './source';
import { type Claims, stageIntoImportsDir } from './stage-dir';
import { stageIntoTree } from './stage-tree';
import { removeStaleImports } from './stale';
import type { ImportDigest, ImportTree, StagedImports } from './types';
import { verifyImportHash } from './verify';

/**
 * Stages a layer's imports on the host (spec 3.4), in list order. Imports without `dest` are
 * mirrored into `$SD/imports/<layer>`, which is kept between builds (an unchanged import is
 * not copied again) and cleared of anything no import claims, a stale run script included.
 * Each import with `dest` becomes a fresh image tree under `$SD/imports-copy/<layer>/<index>`
 * (the layer's whole imports-copy dir is deleted first). Every import is checked against its
 * `hash:` before it is copied and gets a content digest for the cache.
 *
 * The layer's `overlay_dirs` are laid out as trees too, `<index>` being `overlay-<n>`, and come
 * first in `overlayDirs`, as in stacker. A `dest` that crosses a symlink of the base image
 * (`baseLayers`: its extracted layers, bottom-first) follows it (see `base-paths.ts`).
 *
 * Does not clear the staging dir of layers missing from the cache (spec 3.2 step 1) nor
 * write the run script: both belong to the build step.
 */
export async function stageImports({
  layer,
  stackerDir,
  log,
  baseLayers = [],
  sourceDateEpoch,
}: {
  layer: Layer;
  stackerDir: string;
  log: Logger;
  baseLayers?: string[];
  /** When set, every staged file and symlink gets it as mtime (see CopyAttrs.mtime). */
  sourceDateEpoch?: number;
}): Promise<StagedImports> {
  const dir = join(stackerDir, 'imports', layer.name);
  const copyDir = join(stackerDir, 'imports-copy', layer.name);
  try {
    mkdirSync(dir, { recursive: true });
    removeEntry({ path: copyDir });
  } catch (err) {
    throw wrapError(err, `couldn't prepare import staging dir ${dir}`, {
      file: layer.file,
      layer: layer.name,
      step: 'imports',
    });
  }

  const claims: Claims = new Map();
  const resolveDest = baseDestResolver({ baseLayers });
  const overlayDirs: ImportTree[] = await stageOverlayDirs({
    layer,
    copyDir,
    resolveDest,
    log,
    sourceDateEpoch,
  });
  const digests: ImportDigest[] = [];
  for (const [index, imp] of layer.imports.entries()) {
    const where = importLocation({ layer, imp });
    const acquired = await acquireImport({ imp, layer, stackerDir, where, log });
    const source = inspectSource({ path: acquired.path, where });
    verifyImportHash({ imp, source, where });
    digests.push(digestOf({ imp, source }));

    const attrs = copyAttrsFor(imp, sourceDateEpoch);
    if (imp.dest === undefined) {
      stageIntoImportsDir({ imp, acquired, source, dir, claims, attrs, where, log });
    } else {
      const root = join(copyDir, String(index));
      const isDir = source.kind === 'dir';
      const placed = await followBaseSymlinks({ imp, acquired, isDir, resolveDest, log });
      overlayDirs.push(stageIntoTree({ imp: placed, acquired, source, root, attrs, where, log }));
    }
  }

  removeStaleImports({ dir, claims, log });
  return { dir, overlayDirs, digests };
}
