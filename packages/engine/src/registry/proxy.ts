/**
 * HTTP proxies, chosen from the environment as Go's standard library chooses them (so as
 * stacker does): `HTTPS_PROXY` for https urls, `HTTP_PROXY` for http ones (either in lower
 * case too, upper case first), none for the hosts `NO_PROXY` lists, and never for localhost
 * or a loopback address. https goes through a CONNECT tunnel; plain http is sent to the
 * proxy with the absolute url.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { StackerError } from '../errors';

/**
 * The proxy for `url` under `env`, or undefined to connect directly. A value that is no url
 * is an error naming the variable (never its value, which may hold a password).
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const names =
    url.protocol === 'https:' ? ['HTTPS_PROXY', 'https_proxy'] : ['HTTP_PROXY', 'http_proxy'];
  const name = names.find((n) => env[n]);
  const value = name && env[name];
  if (!name || !value) return undefined;
  const host = hostOf(url);
  if (host === 'localhost' || isLoopback(host)) return undefined;
  if (bypassed(host, portOf(url), env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  // A value without a scheme is an http proxy, as in Go.
  const proxy = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  if (!proxy || !/^https?:$/.test(proxy.protocol) || !proxy.hostname) {
    throw new StackerError(
      `${name} is not a proxy url nx-stacker can use`,
      {},
      `write it as http://[user:password@]host:port (or https://), or unset ${name}`,
    );
  }
  return proxy;
}

/** The url's host name without IPv6 brackets, in lower case. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Whether NO_PROXY exempts `host`: `*` exempts every host; an entry is a host name (which
 * also covers its subdomains; with a leading dot only them), an IP address or an IPv4 CIDR
 * block, with an optional `:port` that must then match too.
 */
function bypassed(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = splitPort(raw.trim().toLowerCase());
    if (entry.host === '') continue;
    if (entry.host === '*') return true;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (matches(host, entry.host)) return true;
  }
  return false;
}

/** `host:port`, `[v6]:port`, or a host (an IPv6 address with its colons) alone. */
function splitPort(entry: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] as string, port: bracketed[2] };
  const hostPort = /^([^:]*):(\d+)$/.exec(entry);
  if (hostPort) return { host: hostPort[1] as string, port: hostPort[2] };
  return { host: entry };
}

function matches(host: string, entry: string): boolean {
  if (entry.includes('/')) return inCidr(host, entry);
  if (isIP(entry) !== 0 || isIP(host) !== 0) return entry === host;
  if (entry.startsWith('.')) return host.endsWith(entry);
  return host === entry || host.endsWith(`.${entry}`);
}

/** Whether the IPv4 address `host` lies in the IPv4 block `cidr` (IPv6 blocks: never). */
function inCidr(host: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  if (isIP(host) !== 4 || isIP(base) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    return false;
  }
  const value = (ip: string) =>
    ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (value(host) & mask) >>> 0 === (value(base) & mask) >>> 0;
}

/** What to do when a proxy refused a request (its 407, or a refused CONNECT). */
export const PROXY_HINT =
  'check the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and the credentials in them ' +
  '(not shown here)';

/** `Proxy-Authorization` for a proxy url with user info, else nothing. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username && !proxy.password) return {};
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return {
    'Proxy-Authorization': `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  };
}

/** The proxy as it may be shown: its origin, never its credentials. */
export function shownProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/**
 * An https agent whose connections are TLS sessions through CONNECT tunnels of `proxy`, kept
 * alive like any agent's. The TLS options (trusted CAs, verification) are the agent's.
 */
export class TunnelingAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number; servername?: string },
    callback: (err: Error | null, socket?: Duplex) => void,
  ): undefined {
    const host = options.host ?? 'localhost';
    const target = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 443}`;
    const connect = (this.proxy.protocol === 'https:' ? https : http).request({
      host: this.proxy.hostname.replace(/^\[|\]$/g, ''),
      port: this.proxy.port || (this.proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...proxyAuthorization(this.proxy) },
      agent: false,
    });
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const err = new Error(
          `proxy ${shownProxy(this.proxy)} refused to connect to ${target}: ` +
            `${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd(),
        );
        callback(Object.assign(err, { code: 'EPROXY' }));
        return;
      }
      const secure = tls.connect({
        ...options,
        socket,
        servername: options.servername ?? (isIP(host) ? undefined : host),
      });
      secure.once('secureConnect', () => callback(null, secure));
      secure.once('error', (err) => callback(err));
    });
    connect.once('error', (err: Error & { code?: string }) => {
      callback(
        Object.assign(new Error(`proxy ${shownProxy(this.proxy)}: ${err.message}`), {
          code: err.code,
        }),
      );
    });
    connect.end();
    return undefined;
  }
}
