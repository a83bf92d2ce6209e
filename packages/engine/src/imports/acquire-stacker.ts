import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Location, StackerError, wrapError } from '../errors';
import type { Acquirer, LayerSources } from './acquire';
import { copyOut, imageView } from './layer-copy';
import { importName } from './placement';

/**
 * `stacker://<layer>/<path>` imports: a file or directory of a layer built earlier in this
 * build, read from its extracted layers (see layer-copy.ts) rather than from a container
 * started on it, as stacker does. The entry is copied once into
 * `<stacker dir>/imports-stacker/<layer>/<path key>-<content key>/`, where the content key
 * is a hash of the source image's layers, so an unchanged source is not copied again; older
 * copies for the same path are deleted. From there it is staged like a local import: `hash:`
 * is checked (stacker never checks it) and `dest` renames it (stacker ignored that).
 */
export const acquireStacker: Acquirer = async ({ imp, layer, stackerDir, where, sources }) => {
  const { source, path } = parseStackerUrl(imp.path, where);
  if (!sources || !stackerDir || !layer) {
    throw new StackerError(
      `stacker:// import ${imp.path} can only be read during a build`,
      where,
      'this is a bug in the caller: pass the layers built so far as `sources`',
    );
  }
  const name = importName({ path });
  if (name === '' || name === '.' || name === '..') {
    throw new StackerError(
      `bad stacker:// url ${imp.path}: the path must name a file or directory below /`,
      where,
    );
  }

  const copy = await materialize({
    sources,
    source,
    path,
    imp: imp.path,
    where,
    stackerDir,
    layer: layer.name,
  });
  return { path: join(copy, name), name };
};

/** `stacker://<layer>/<path>` -> the layer's name and the absolute path inside it. */
export function parseStackerUrl(url: string, where: Location): { source: string; path: string } {
  const rest = url.slice('stacker://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) {
    throw new StackerError(
      `bad stacker:// url ${url}`,
      where,
      'write stacker://<layer name>/<absolute path in that layer>',
    );
  }
  return { source: rest.slice(0, slash), path: rest.slice(slash) };
}

async function materialize(args: {
  sources: LayerSources;
  source: string;
  path: string;
  imp: string;
  where: Location;
  stackerDir: string;
  layer: string;
}): Promise<string> {
  const { sources, source, path, where } = args;
  const image = sources.image(args.source);
  if (!image) {
    throw new StackerError(
      `couldn't find layer ${source} for ${args.imp}`,
      where,
      'a stacker:// import reads a layer of this build (or of a prerequisite) built before it',
    );
  }

  // One dir per (import path, source content); a copy made earlier is reused.
  const pathKey = shortHash(args.imp);
  const contentKey = shortHash(image.manifest.layers.map((l) => l.digest).join('\n'));
  const base = join(args.stackerDir, 'imports-stacker', args.layer);
  const dir = join(base, `${pathKey}-${contentKey}`);
  if (existsSync(dir)) return dir;

  // Copy into a temp dir, then move it into place and drop older copies of this path.
  try {
    const view = await imageView({ image, roots: sources.roots });
    const entry = await view.resolve(path, args.imp.endsWith('/')).catch((err: unknown) => {
      throw new StackerError(`couldn't stat import ${args.imp}: ${(err as Error).message}`);
    });
    const name = importName({ path });
    const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    mkdirSync(tmp, { recursive: true });
    try {
      await copyOut(view, entry, join(tmp, name));
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(dir)) throw err;
    }
    for (const old of readdirSync(base)) {
      if (old.startsWith(`${pathKey}-`) && join(base, old) !== dir && !old.includes('.tmp-')) {
        rmSync(join(base, old), { recursive: true, force: true });
      }
    }
    return dir;
  } catch (err) {
    throw wrapError(err, `couldn't copy ${args.imp} out of layer ${source}`, where);
  }
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
