/** A plain node:http file server on loopback, for the http import and download tests. */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Credentials } from './clients';
import { closeHttpServer, listenOnLoopback } from './loopback';

/** A file the test server serves. */
export interface ServedFile {
  body: Buffer | string;
  /** Send `X-Checksum-Sha256` with this value (the real sha256 when `true`). */
  checksum?: string | true;
  /** Send an `ETag` derived from the content. */
  etag?: boolean;
}

export interface FileServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  files: Map<string, ServedFile>;
  /** `METHOD path` of every request served. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * A node:http server on loopback serving `files` (path -> file) to GET and HEAD, with
 * `Content-Length` and, when asked, `X-Checksum-Sha256`; with `auth`, Basic credentials are
 * required (401 otherwise).
 */
export async function startFileServer(
  files: Record<string, ServedFile>,
  opts: { auth?: Credentials } = {},
): Promise<FileServer> {
  const map = new Map(Object.entries(files));
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const expected =
      opts.auth &&
      `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`;
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="files"' }).end();
      return;
    }
    const file = map.get(req.url ?? '');
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const body = Buffer.from(file.body);
    const headers: Record<string, string> = { 'Content-Length': String(body.length) };
    if (file.checksum) {
      headers['X-Checksum-Sha256'] = file.checksum === true ? sha256Hex(body) : file.checksum;
    }
    if (file.etag) headers.ETag = `"${sha256Hex(body).slice(0, 16)}"`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    files: map,
    requests,
    stop: () => closeHttpServer(server),
  };
}

/** sha256 hex of some text. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
