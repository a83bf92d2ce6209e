import { posix } from 'node:path';
import { StackerError } from '../errors';
import type { Acquirer } from './acquire';
import { download } from './download';

/**
 * `http://` and `https://` imports: the file is downloaded into the download cache of the
 * stacker dir (see download.ts, which also checks `hash:`) and staged from there like a local
 * file. It is staged under the last component of the url as written, query string included
 * (as in stacker), unless `dest` renames it. Downloads are created 0644.
 */
export const acquireHttp: Acquirer = async ({
  imp,
  stackerDir,
  where,
  log,
  env,
  offline,
  signal,
}) => {
  if (!stackerDir) {
    throw new StackerError(`http import ${imp.path} needs a stacker dir to download into`, where);
  }
  const got = await download({
    url: imp.path,
    hash: imp.hash?.toLowerCase(),
    stackerDir,
    env: env ?? process.env,
    log,
    where,
    offline,
    signal,
  });
  return { path: got.path, name: posix.basename(imp.path.replace(/\/+$/, '')) };
};
