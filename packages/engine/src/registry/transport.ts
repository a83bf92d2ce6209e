import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { proxyAuthorization, proxyFor, shownProxy, TunnelingAgent } from './proxy';
import { trustedCertificates } from './tls';

/** One HTTP request. Every registry and download request goes through `send`. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  /** The body: bytes, or a function opening a fresh stream, so that a retry can resend it. */
  body?: Buffer | (() => Readable);
  /** Byte length of a streamed body (sent as Content-Length). */
  bodyLength?: number;
  /** false accepts any certificate (`insecure`, `--skip-tls`). */
  verifyTls: boolean;
  /** Read for NODE_EXTRA_CA_CERTS and SSL_CERT_FILE. */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Follow redirects (GET and HEAD); Authorization is dropped when one leaves the origin. */
  followRedirects?: boolean;
}

/** A response whose body has not been read yet; read it or discard it. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The url that answered, after redirects. */
  url: URL;
  body: IncomingMessage;
  /** One header's value (the first, when repeated). */
  header(name: string): string | undefined;
  /** The whole body, refusing more than `limit` bytes. */
  read(limit: number): Promise<Buffer>;
  /** Throws the body away so the connection can be reused. */
  discard(): void;
}

/** The request never got an HTTP answer: refused, reset, timed out, TLS failed. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly url: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** No byte for this long on an open connection fails the request (as a transient error). */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

// Keep-alive agents: one for http, one accepting any certificate, one per set of trusted CAs.
const plainAgent = new http.Agent({ keepAlive: true });
const anyCertAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
const verifyingAgents = new WeakMap<string[], https.Agent>();
// Tunnels through proxies, by trusted CAs (NO_CERTS: any certificate accepted), then proxy.
const NO_CERTS: string[] = [];
const tunnelingAgents = new WeakMap<string[], Map<string, https.Agent>>();

/**
 * Sends a request with Node's http/https modules (keep-alive connections, system CAs plus
 * NODE_EXTRA_CA_CERTS, see tls.ts; the proxy the environment names, see proxy.ts) and
 * resolves once the response headers arrived. Does not retry and does not authenticate: see
 * retry.ts and client.ts.
 */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  let url = req.url;
  let headers = { ...req.headers };
  for (let hop = 0; ; hop++) {
    const res = await sendOnce({ ...req, url, headers });
    const location = res.headers.location;
    const redirect = [301, 302, 303, 307, 308].includes(res.statusCode ?? 0);
    if (!redirect || !req.followRedirects || !location || hop >= MAX_REDIRECTS) {
      return wrap(res, url);
    }
    res.resume();
    const next = new URL(location, url);
    if (next.origin !== url.origin) {
      const { authorization: _dropped, Authorization: _alsoDropped, ...rest } = headers;
      headers = rest;
    }
    url = next;
  }
}

function sendOnce(req: HttpRequest): Promise<IncomingMessage> {
  const { url } = req;
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string> = { 'User-Agent': 'nx-stacker', ...req.headers };
  if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
  else if (req.body && req.bodyLength !== undefined) {
    headers['Content-Length'] = String(req.bodyLength);
  }

  // Plain http through a proxy: the request goes to the proxy, naming the absolute url.
  const proxy = proxyFor(url, req.env);
  const via = proxy && !isHttps ? proxy : undefined;
  if (via) Object.assign(headers, { Host: url.host }, proxyAuthorization(via));
  const options: http.RequestOptions = {
    method: req.method,
    headers,
    agent: via ? directAgent(via.protocol === 'https:', req) : agentFor(isHttps, proxy, req),
    signal: req.signal,
  };
  // Credentials in the url are for the server, never shown to the proxy in the path.
  const path = via ? new URL(url.href) : url;
  if (via && (path.username || path.password)) {
    options.auth = `${decodeURIComponent(path.username)}:${decodeURIComponent(path.password)}`;
    path.username = '';
    path.password = '';
  }

  return new Promise((resolve, reject) => {
    const fail = (err: Error & { code?: string }) => {
      const through = proxy && err.code !== 'EPROXY' ? ` (through proxy ${shownProxy(proxy)})` : '';
      reject(new TransportError(`${describe(err)}${through}`, err.code, redact(url)));
    };
    const request = via
      ? (via.protocol === 'https:' ? https : http).request({
          ...options,
          hostname: via.hostname.replace(/^\[|\]$/g, ''),
          port: via.port || (via.protocol === 'https:' ? 443 : 80),
          path: path.href,
        })
      : (isHttps ? https : http).request(url, options);
    request.setTimeout(IDLE_TIMEOUT_MS, () =>
      request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    request.on('error', fail);
    request.on('response', (res) => {
      if (via && res.statusCode === 407) {
        res.resume();
        const err = new Error(
          `proxy ${shownProxy(via)} refused the request for ${redact(url)}: 407 ` +
            '(proxy authentication required)',
        );
        fail(Object.assign(err, { code: 'EPROXY' }));
        return;
      }
      resolve(res);
    });

    if (Buffer.isBuffer(req.body)) request.end(req.body);
    else if (req.body) pipeline(req.body(), request).catch(fail);
    else request.end();
  });
}

/**
 * The keep-alive agent for a request sent directly (no `proxy`) or, for https, through the
 * CONNECT tunnels of `proxy` (one agent per proxy and TLS setting).
 */
function agentFor(isHttps: boolean, proxy: URL | undefined, req: HttpRequest): http.Agent {
  if (!proxy || !isHttps) return directAgent(isHttps, req);
  const certs = req.verifyTls ? trustedCertificates(req.env) : NO_CERTS;
  let tunnels = tunnelingAgents.get(certs);
  if (!tunnels) {
    tunnels = new Map();
    tunnelingAgents.set(certs, tunnels);
  }
  let agent = tunnels.get(proxy.href);
  if (!agent) {
    const tlsOptions = req.verifyTls ? { ca: certs } : { rejectUnauthorized: false };
    agent = new TunnelingAgent(proxy, { keepAlive: true, ...tlsOptions });
    tunnels.set(proxy.href, agent);
  }
  return agent;
}

/** The keep-alive agent for a direct connection: http, https trusting our CAs, or any. */
function directAgent(isHttps: boolean, req: HttpRequest): http.Agent {
  if (!isHttps) return plainAgent;
  if (!req.verifyTls) return anyCertAgent;
  const certs = trustedCertificates(req.env);
  let agent = verifyingAgents.get(certs);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, ca: certs });
    verifyingAgents.set(certs, agent);
  }
  return agent;
}

function wrap(res: IncomingMessage, url: URL): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    url,
    body: res,
    header(name) {
      const value = res.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    async read(limit) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          res.destroy();
          throw new TransportError(`response larger than ${limit} bytes`, 'ETOOBIG', redact(url));
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    },
    discard() {
      res.resume();
    },
  };
}

/** A url as it may be shown: no user info, no query (upload urls carry session state). */
export function redact(url: URL | string): string {
  const u = new URL(String(url));
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

/** A network error in words a user understands, with its code. */
function describe(err: Error & { code?: string }): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'name resolution failed (temporarily)',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPROTO: 'TLS handshake failed (is it plain http?)',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
    SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not signed by a trusted CA',
    ERR_TLS_CERT_ALTNAME_INVALID: "certificate is not valid for this host's name",
    CERT_HAS_EXPIRED: 'certificate has expired',
  };
  return (err.code && words[err.code]) || err.message;
}

/** Whether a transport error is about the server's certificate. */
export function isCertificateError(err: unknown): boolean {
  const code = (err as TransportError).code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
}
