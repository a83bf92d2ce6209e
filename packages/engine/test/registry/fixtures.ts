/**
 * Real servers on loopback for the registry, publish and download tests: Debian's
 * docker-registry (the CNCF distribution registry) with htpasswd auth and/or TLS, and a plain
 * node:http file server. Each one records the requests it served so tests can count them.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Async on purpose: a token server in this process must keep answering while skopeo runs.
const run = promisify(execFile);

/** One line of the registry's access log. */
export interface Served {
  method: string;
  path: string;
  status: number;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Where the registry keeps its data (blobs under docker/registry/v2/blobs). */
  storage: string;
  /** The self-signed certificate (PEM file), for TLS registries. */
  certFile?: string;
  /**
   * Requests served since the start or the last `clearLog`. The access log is written after
   * each response, so both first make a marker request and wait for it to be logged.
   */
  served(): Promise<Served[]>;
  clearLog(): Promise<void>;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd (Basic) auth with one user. */
  auth?: { user: string; password: string };
  /** Serve https with a fresh self-signed certificate for 127.0.0.1. */
  tls?: boolean;
  /** A token server's settings: Bearer auth instead of htpasswd. */
  token?: { realm: string; service: string; issuer: string; certFile: string };
}

/** A free TCP port on loopback (released before it is returned: use it at once). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
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

/** Starts a registry on 127.0.0.1 with a temp config and storage; stop it when done. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const storage = join(dir, 'data');
  mkdirSync(storage);

  const lines = [
    'version: 0.1',
    'log: {level: warn}',
    `storage: {filesystem: {rootdirectory: ${storage}}, delete: {enabled: true}}`,
    'http:',
    `  addr: ${host}`,
    '  secret: nx-stacker-test',
  ];
  let certFile: string | undefined;
  if (opts.tls) {
    const { cert, key } = selfSignedCert(dir);
    certFile = cert;
    lines.push(`  tls: {certificate: ${cert}, key: ${key}}`);
  }
  if (opts.auth) {
    const entry = execFileSync('htpasswd', ['-niB', opts.auth.user], { input: opts.auth.password });
    writeFileSync(join(dir, 'htpasswd'), entry);
    lines.push(`auth: {htpasswd: {realm: nx-stacker-test, path: ${join(dir, 'htpasswd')}}}`);
  }
  if (opts.token) {
    const t = opts.token;
    lines.push(
      `auth: {token: {realm: "${t.realm}", service: ${t.service}, issuer: ${t.issuer}, ` +
        `rootcertbundle: ${t.certFile}}}`,
    );
  }
  writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);

  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log: Served[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d+)/.exec(line);
      if (m) log.push({ method: m[1] as string, path: m[2] as string, status: Number(m[3]) });
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await waitUntilUp(host, !!opts.tls, child, () => stderr);
  log = [];

  let marks = 0;
  const sync = async () => {
    const mark = `/v2/nx-stacker-mark/${++marks}/tags/list`;
    await request(host, !!opts.tls, mark);
    for (let i = 0; i < 100 && !log.some((l) => l.path === mark); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    log = log.filter((l) => !l.path.startsWith('/v2/nx-stacker-mark/'));
  };
  return {
    host,
    storage,
    certFile,
    served: async () => {
      await sync();
      return [...log];
    },
    clearLog: async () => {
      await sync();
      log = [];
    },
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilUp(
  host: string,
  tls: boolean,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr()}`);
    if (await request(host, tls, '/v2/')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not start on ${host}: ${stderr()}`);
}

/** One GET with any certificate accepted; true when the server answered at all. */
function request(host: string, tls: boolean, path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = (tls ? https : http).get(
      `${tls ? 'https' : 'http'}://${host}${path}`,
      { rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(true));
      },
    );
    req.on('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** An auth.json (containers format) in `dir` with the given entries; returns its path. */
export function writeAuthFile(
  dir: string,
  entries: Record<string, { user: string; password: string }>,
): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [key, { user, password }] of Object.entries(entries)) {
    auths[key] = { auth: Buffer.from(`${user}:${password}`).toString('base64') };
  }
  const path = join(dir, `auth-${Object.keys(entries).length}-${Date.now()}.json`);
  writeFileSync(path, JSON.stringify({ auths }), { mode: 0o600 });
  return path;
}

/** `skopeo copy` from `oci:<layout>:<tag>` to `docker://<host>/<dest>` (all platforms). */
export async function seed(args: {
  layout: string;
  tag: string;
  registry: TestRegistry;
  dest: string;
  authFile?: string;
  /** `v2s2`: push a Docker schema 2 manifest instead of the layout's OCI one. */
  format?: 'v2s2';
}): Promise<void> {
  const flags = ['--dest-tls-verify=false', '--all'];
  if (args.format) flags.push('--format', args.format);
  if (args.authFile) flags.push('--dest-authfile', args.authFile);
  const to = `docker://${args.registry.host}/${args.dest}`;
  await run('skopeo', ['copy', ...flags, `oci:${args.layout}:${args.tag}`, to]);
}

/** The digest of the manifest (or index) `docker://<host>/<ref>` as skopeo reads it. */
export async function skopeoDigest(
  registry: TestRegistry,
  ref: string,
  authFile?: string,
): Promise<string> {
  const flags = ['--tls-verify=false', '--raw'];
  if (authFile) flags.push('--authfile', authFile);
  const { stdout } = await run(
    'skopeo',
    ['inspect', ...flags, `docker://${registry.host}/${ref}`],
    { encoding: 'buffer' },
  );
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

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
  opts: { auth?: { user: string; password: string } } = {},
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
      headers['X-Checksum-Sha256'] =
        file.checksum === true ? createHash('sha256').update(body).digest('hex') : file.checksum;
    }
    if (file.etag) headers.ETag = `"${sha256Hex(body).slice(0, 16)}"`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    files: map,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** sha256 hex of some text. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

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
export async function startTokenServer(
  dir: string,
  user: { user: string; password: string },
): Promise<TokenServer> {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    token: { realm: `http://127.0.0.1:${address.port}/token`, service, issuer, certFile: cert },
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
