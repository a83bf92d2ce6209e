/**
 * A forwarding HTTP proxy on loopback, for the proxy tests: CONNECT tunnels for https and
 * absolute-form requests for plain http, as corporate proxies serve them. Like such a proxy it
 * resolves names itself: every host name is sent to 127.0.0.1, so a client can only reach
 * `some.name:<port>` through it. With `user`, requests without its Proxy-Authorization get 407.
 */
import http from 'node:http';
import { connect } from 'node:net';
import type { Credentials } from './clients';
import { closeHttpServer, listenOnLoopback } from './loopback';

export interface ProxyServer {
  /** `http://127.0.0.1:<port>`, with the user's credentials when it has one. */
  url: string;
  /** `CONNECT host:port` and `GET http://host:port/path` lines, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startProxy(user?: Credentials): Promise<ProxyServer> {
  const requests: string[] = [];
  const expected = user
    ? `Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}`
    : undefined;
  const allowed = (req: http.IncomingMessage) =>
    !expected || req.headers['proxy-authorization'] === expected;

  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (!allowed(req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    const target = new URL(req.url ?? '/');
    const { 'proxy-authorization': _dropped, ...headers } = req.headers;
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: target.port || 80,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  const tunnels = new Set<{ destroy(): void }>();
  server.on('connect', (req, client, head) => {
    requests.push(`CONNECT ${req.url}`);
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    if (!allowed(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const port = Number((req.url ?? '').split(':').pop());
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });

  const port = await listenOnLoopback(server);
  const auth = user ? `${encodeURIComponent(user.user)}:${encodeURIComponent(user.password)}@` : '';
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    requests,
    stop: () => {
      for (const socket of tunnels) socket.destroy();
      return closeHttpServer(server);
    },
  };
}
