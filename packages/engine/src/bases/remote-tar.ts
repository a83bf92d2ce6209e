import { type Location, StackerError } from '../errors';
import { parseStackerUrl } from '../imports/acquire-stacker';
import { download } from '../imports/download';
import { imageView } from '../imports/layer-copy';
import type { Layer } from '../parse/types';
import type { BaseContext, BuiltLayers } from './resolve';

/**
 * The local file a `tar` base with a url stands for. `http(s)://`: downloaded into the
 * download cache like an http import (without a hash: stacker has no field for one), reused
 * while the server says it is unchanged. `stacker://<layer>/<path>`: the file as the layer,
 * built earlier in this build, has it; read in place from the extracted layers (see
 * imports/layer-copy.ts), symlinks followed inside the image.
 */
export async function remoteTarball(args: {
  layer: Layer;
  url: string;
  where: Location;
  built: BuiltLayers;
  context: BaseContext;
}): Promise<string> {
  const { url, where, context } = args;
  if (/^https?:\/\//i.test(url)) {
    const got = await download({
      url,
      stackerDir: context.stackerDir,
      env: context.env,
      log: context.log,
      where,
      offline: context.offline,
      signal: context.signal,
    });
    return got.path;
  }

  if (!url.startsWith('stacker://')) {
    throw new StackerError(
      `unsupported url scheme ${url}`,
      where,
      'a tar base url is a local path, an http(s):// url or stacker://<layer>/<path>',
    );
  }
  const { source, path } = parseStackerUrl(url, where);
  const parent = args.built.get(source);
  if (!parent || !context.roots) {
    throw new StackerError(`couldn't find layer ${source} for tar base ${url}`, where);
  }
  const view = await imageView({ image: parent.image, roots: context.roots });
  const entry = await view.resolve(path, true).catch((err: unknown) => {
    throw new StackerError(`couldn't open ${url}: ${(err as Error).message}`, where);
  });
  if (entry.kind !== 'file') {
    throw new StackerError(
      `couldn't open ${url}: ${path} is not a regular file in layer ${source}`,
      where,
      'the url must name a tarball inside that layer',
    );
  }
  return entry.hostPath;
}
