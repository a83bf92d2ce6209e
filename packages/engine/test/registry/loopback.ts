/** Plumbing of the test servers on loopback: ports, listening, closing, certificates. */
import { execFileSync } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { join } from 'node:path';

/** Starts `server` on 127.0.0.1 at a port the system picks; returns the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return address.port;
}

/** Closes an http server, dropping the connections it still holds open. */
export function closeHttpServer(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** A free TCP port on loopback (released before it is returned: use it at once). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A self-signed certificate and key for 127.0.0.1 in `dir`. */
export function selfSignedCert(dir: string, cn = '127.0.0.1'): { cert: string; key: string } {
  const cert = join(dir, `${cn}.crt`);
  const key = join(dir, `${cn}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  return { cert, key };
}
