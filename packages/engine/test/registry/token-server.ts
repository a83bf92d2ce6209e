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
 * credentials of `user` on GET (anonymous requests get no access), or on POST an OAuth2
 * refresh-token grant whose token must be `identityToken` (logged as `identity`; a wrong one
 * gets 400 invalid_grant), and answers with a JWT (RS256, its certificate in the `x5c` header)
 * granting every scope asked for. `dir` receives the signing key and certificate.
 */
export async function startTokenServer(
  dir: string,
  user: Credentials,
  identityToken?: string,
): Promise<TokenServer> {
  const { cert, key } = selfSignedCert(dir, 'token-issuer');
  const der = certDer(cert);
  const signingKey = readFileSync(key);
  const requests: string[] = [];
  const service = 'nx-stacker-test-registry';
  const issuer = 'nx-stacker-test-issuer';

  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const ok =
          form.get('grant_type') === 'refresh_token' &&
          identityToken !== undefined &&
          form.get('refresh_token') === identityToken;
        requests.push(`${ok ? 'identity' : 'wrong-identity'} ${scopes.join(' ')}`);
        if (!ok) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end('{"error":"invalid_grant"}');
          return;
        }
        answer(res, user.user, scopes, 'access_token');
      });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const expected = `Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}`;
    const who = req.headers.authorization === expected ? user.user : undefined;
    requests.push(`${req.headers.authorization ? (who ?? 'wrong') : '-'} ${scopes.join(' ')}`);
    if (req.headers.authorization && !who) {
      res.writeHead(401).end('{"details":"bad credentials"}');
      return;
    }
    answer(res, who, scopes);
  });

  /** Sends a token for `scopes`, under `field` (OAuth2 servers name it `access_token`). */
  function answer(
    res: http.ServerResponse,
    who: string | undefined,
    scopes: string[],
    field = 'token',
  ): void {
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
    res.end(JSON.stringify({ [field]: token, expires_in: 300 }));
  }
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
