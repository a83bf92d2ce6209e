/**
 * Debian's docker-registry (the CNCF distribution registry) on loopback, with htpasswd or token
 * auth and/or TLS, recording the requests it served so tests can count them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Credentials, writeAuthFile } from './clients';
import { freePort, selfSignedCert } from './loopback';

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
  auth?: Credentials;
  /** Serve https with a fresh self-signed certificate for 127.0.0.1. */
  tls?: boolean;
  /** A token server's settings: Bearer auth instead of htpasswd. */
  token?: { realm: string; service: string; issuer: string; certFile: string };
}

/** Starts a registry on 127.0.0.1 with a temp config and storage; stop it when done. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-registry-'));
  const host = `127.0.0.1:${await freePort()}`;
  const storage = join(dir, 'data');
  mkdirSync(storage);
  const certFile = writeConfig(dir, host, storage, opts);

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

/** A registry with Basic auth for `user`, and an auth file in `dir` that logs in to it. */
export async function startAuthRegistry(
  dir: string,
  user: Credentials,
): Promise<{ registry: TestRegistry; authFile: string }> {
  const registry = await startRegistry({ auth: user });
  return { registry, authFile: writeAuthFile(dir, { [registry.host]: user }) };
}

/** Writes `<dir>/config.yml` (and the htpasswd file or certificate it names); the cert path. */
function writeConfig(
  dir: string,
  host: string,
  storage: string,
  opts: RegistryOptions,
): string | undefined {
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
  return certFile;
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
