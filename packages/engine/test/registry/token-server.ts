/** A Bearer token server on loopback, for a test registry started with `token` auth. */
import { sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Credentials } from './clients';
import { closeHttpServer, listenOnLoopback, selfSignedCert } from './loopback';

export interface TokenServer {
  /** Settings for `startRegistry({ token })`. */
  token: { realm: string; service: string; issuer: string; certFile: string };
  /** `user scope…` of every token request (`-` for anonymous ones). */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * A Bearer token server for a registry configured with `auth: token`: it checks Basic
 * credentials of `user` (anonymous requests get no access) and answers with a JWT (RS256,
 * its certificate in the `x5c` header) granting every scope asked for. `dir` receives the
 * signing key and certificate.
 */
export async function startTokenServer(dir: string, user: Credentials): Promise<TokenServer> {
  const { cert, key } = selfSignedCert(dir, 'token-issuer');
  const der = certDer(cert);
  const signingKey = readFileSync(key);
  const requests: string[] = [];
  const service = 'nx-stacker-test-registry';
  const issuer = 'nx-stacker-test-issuer';

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const expected = `Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}`;
    const who = req.headers.authorization === expected ? user.user : undefined;
    requests.push(`${req.headers.authorization ? (who ?? 'wrong') : '-'} ${scopes.join(' ')}`);
    if (req.headers.authorization && !who) {
      res.writeHead(401).end('{"details":"bad credentials"}');
      return;
    }
    const access = who
      ? scopes.map((s) => {
          const [type, name, actions] = s.split(':');
          return { type, name, actions: (actions ?? '').split(',') };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      { alg: 'RS256', typ: 'JWT', x5c: [der] },
      {
        iss: issuer,
        sub: who ?? '',
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: String(Math.random()),
        access,
      },
      signingKey,
    );
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: 300 }));
  });
  const port = await listenOnLoopback(server);
  return {
    token: { realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile: cert },
    requests,
    stop: () => closeHttpServer(server),
  };
}

/** The base64 DER of a PEM certificate. */
function certDer(certFile: string): string {
  const pem = readFileSync(certFile, 'utf8');
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

function signJwt(header: object, claims: object, key: Buffer): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${b64(header)}.${b64(claims)}`;
  const signature = cryptoSign('sha256', Buffer.from(data), key).toString('base64url');
  return `${data}.${signature}`;
}
