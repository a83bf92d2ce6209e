import { createHash } from 'node:crypto';
import {
  chmodSync,
  createWriteStream,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Location, StackerError } from '../errors';
import type { Logger } from '../log';
import { DigestStream } from '../oci/digest';
import { type Credentials, findCredentials } from '../registry/auth-file';
import { PROXY_HINT } from '../registry/proxy';
import { withRetries } from '../registry/retry';
import { type HttpResponse, redact, send, TransportError } from '../registry/transport';
import { writeFileAtomic } from '../util/fs';

/** The header a server may announce a file's sha256 in (stacker reads the same one). */
const CHECKSUM_HEADER = 'x-checksum-sha256';

export interface DownloadOptions {
  url: string;
  /** The expected sha256 (the import's `hash:`), lower-case hex. */
  hash?: string;
  stackerDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  where: Location;
  /** Only use an earlier download; never touch the network. */
  offline?: boolean;
  signal?: AbortSignal;
}

/** A downloaded file in the download cache. */
export interface Downloaded {
  path: string;
  /** Lower-case hex sha256 of the content. */
  sha256: string;
  size: number;
  /** The server's validators for this content, when it sent any. */
  etag?: string;
  lastModified?: string;
}

/** What a HEAD (or GET) told about the remote file; `failed` when it could not be asked. */
interface RemoteInfo {
  sha256?: string;
  size?: number;
  etag?: string;
  lastModified?: string;
  failed?: string;
}

/**
 * Downloads `url` into the download cache `<stacker dir>/downloads/<sha256 of url>/` (`data`
 * plus `meta.json`), following stacker's rules (spec 3.4.2) for when a copy is reused:
 * HEAD first, a YAML hash differing from the `X-Checksum-Sha256` header is an error, an
 * earlier download is kept when it matches the header's checksum (or, without one, its
 * Content-Length; or when the server cannot be asked at all). Unlike stacker, a kept copy must
 * also match the YAML hash, and the bytes of a new download must match the YAML hash or else
 * the header's checksum (stacker only warns about the header). A mismatching download is
 * deleted. Credentials come from the auth files (longest match of `<host><path>`); none are
 * sent when there are none (stacker sent empty Basic credentials).
 */
export async function download(opts: DownloadOptions): Promise<Downloaded> {
  const { url, hash, log, where } = opts;
  const shown = checkUrl(url, where);
  const dir = join(opts.stackerDir, 'downloads', createHash('sha256').update(url).digest('hex'));
  const cached = readCached(dir);
  const matchesYaml = (c: Downloaded) => hash === undefined || c.sha256 === hash;

  if (opts.offline) {
    if (cached && matchesYaml(cached)) return cached;
    throw new StackerError(
      `${shown} has not been downloaded${cached ? ' with the expected hash' : ''}`,
      where,
      'build the layer first',
    );
  }

  // Ask the server what it has; compare with the YAML hash and with what we have.
  // An identity token is for registries' token servers; a file server gets Basic or nothing.
  const found = findCredentials(authKey(url), opts.env);
  const creds = found?.username || found?.password ? found : undefined;
  const info = await headInfo(opts, creds);
  if (hash && info.sha256 && info.sha256 !== hash) {
    throw new StackerError(
      `The requested hash of ${shown} import is different than the actual hash: ` +
        `${hash} != ${info.sha256}`,
      where,
      'update the hash in the stacker file, or remove it',
    );
  }
  if (cached && matchesYaml(cached) && reusable(cached, info)) {
    if (info.failed) log.info(`Couldn't obtain file info of ${shown}, using cached copy`);
    else log.debug(`${shown}: the cached download is current`);
    return cached;
  }
  if (info.failed) log.debug(`cannot obtain file info of ${shown}: ${info.failed}`);

  // Download into the cache dir, verify, then move into place.
  log.info(`downloading ${shown}`);
  mkdirSync(dir, { recursive: true });
  const got = await fetchInto(opts, dir, creds);
  const want = hash ?? info.sha256;
  if (want && got.sha256 !== want) {
    rmSync(got.path, { force: true });
    const message = hash
      ? `Downloaded file hash does not match. Expected: ${hash} Actual: ${got.sha256}`
      : `the download of ${shown} does not match the server's ${CHECKSUM_HEADER} header: ` +
        `${info.sha256} != ${got.sha256}`;
    throw new StackerError(message, where, 'nothing was kept; check the url and the hash');
  }
  const data = join(dir, 'data');
  renameSync(got.path, data);
  writeFileAtomic(join(dir, 'meta.json'), JSON.stringify({ url: shown, ...got, path: undefined }));
  return { ...got, path: data };
}

/**
 * Whether an earlier download may stand for what the server has now: stacker's rules (the
 * checksum header, else the size), except that an `ETag` or `Last-Modified` the server sent
 * both times must not have changed either, so a same-size edit is not missed.
 */
function reusable(cached: Downloaded, info: RemoteInfo): boolean {
  if (info.failed) return true;
  if (info.sha256) return cached.sha256 === info.sha256;
  if (cached.etag && info.etag && cached.etag !== info.etag) return false;
  if (cached.lastModified && info.lastModified && cached.lastModified !== info.lastModified) {
    return false;
  }
  if (info.size !== undefined) return cached.size === info.size;
  return true;
}

/** The url as it may be shown; urls carrying credentials are refused. */
function checkUrl(url: string, where: Location): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StackerError(`${url} is not a valid url`, where);
  }
  if (parsed.username || parsed.password) {
    throw new StackerError(
      `${redact(parsed)} has credentials in it`,
      where,
      'credentials in a url end up in logs and in the image (the stacker_yaml annotation); ' +
        'put them in an auth file (e.g. ~/.config/containers/auth.json) instead',
    );
  }
  return url;
}

/** `<host><path>` of a url: the auth-file key stacker looks up for downloads. */
function authKey(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}

function readCached(dir: string): Downloaded | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Downloaded;
    const path = join(dir, 'data');
    if (statSync(path).size !== meta.size) return undefined;
    return { ...meta, path };
  } catch {
    return undefined;
  }
}

function remoteInfo(res: HttpResponse): RemoteInfo {
  const length = res.header('content-length');
  return {
    sha256: res.header(CHECKSUM_HEADER)?.trim().toLowerCase() || undefined,
    size: length === undefined ? undefined : Number(length),
    etag: res.header('etag'),
    lastModified: res.header('last-modified'),
  };
}

async function headInfo(opts: DownloadOptions, creds?: Credentials): Promise<RemoteInfo> {
  try {
    const res = await request(opts, 'HEAD', creds);
    res.discard();
    if (res.status !== 200) return { failed: `HEAD answered ${res.status}` };
    return remoteInfo(res);
  } catch (err) {
    opts.signal?.throwIfAborted();
    return { failed: (err as Error).message };
  }
}

/** GETs the url into a temp file of `dir`, hashing as it streams. */
async function fetchInto(
  opts: DownloadOptions,
  dir: string,
  creds?: Credentials,
): Promise<Downloaded> {
  const res = await request(opts, 'GET', creds).catch((err: unknown) => {
    throw new StackerError(
      `couldn't download ${opts.url}: ${(err as Error).message}`,
      opts.where,
      (err as { code?: string }).code === 'EPROXY'
        ? PROXY_HINT
        : 'check the url and that the server is reachable',
    );
  });
  if (res.status !== 200) {
    res.discard();
    throw statusError(opts, res, creds);
  }
  const tmp = join(dir, `data.tmp-${process.pid}-${Date.now()}`);
  const digest = new DigestStream();
  try {
    await pipeline(res.body, digest, createWriteStream(tmp, { mode: 0o644 }), {
      signal: opts.signal,
    });
    chmodSync(tmp, 0o644);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StackerError(`couldn't download ${opts.url}: ${(err as Error).message}`, opts.where);
  }
  const { etag, lastModified } = remoteInfo(res);
  return {
    path: tmp,
    sha256: digest.digest.slice('sha256:'.length),
    size: digest.size,
    etag,
    lastModified,
  };
}

function statusError(opts: DownloadOptions, res: HttpResponse, creds?: Credentials): StackerError {
  const status = `${res.status}${res.body.statusMessage ? ` ${res.body.statusMessage}` : ''}`;
  let hint = 'check the url';
  if (res.status === 401 || res.status === 403) {
    hint = creds
      ? `the server refused the credentials from ${creds.source} (they are not shown)`
      : `the server wants credentials; add an entry for ${authKey(opts.url)} (or its host) ` +
        'to an auth file such as ~/.config/containers/auth.json';
  }
  return new StackerError(`couldn't download ${opts.url}: ${status}`, opts.where, hint);
}

/** One request with retries on transient failures, following redirects. */
function request(
  opts: DownloadOptions,
  method: 'GET' | 'HEAD',
  creds?: Credentials,
): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (creds) {
    const basic = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    headers.Authorization = `Basic ${basic}`;
  }
  return withRetries(
    async () => {
      const res = await send({
        method,
        url: new URL(opts.url),
        headers,
        verifyTls: true,
        env: opts.env,
        signal: opts.signal,
        followRedirects: true,
      });
      if ([429, 500, 502, 503, 504].includes(res.status)) {
        res.discard();
        throw new TransportError(`the server answered ${res.status}`, 'ESTATUS', redact(opts.url));
      }
      return res;
    },
    { signal: opts.signal },
  );
}
