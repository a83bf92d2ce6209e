import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { buildIn, busyboxLayout, projectDir, requireRoot, umociUnpack } from '../helpers';
import {
  clientEnv,
  type FileServer,
  seed,
  startFileServer,
  startRegistry,
  type TestRegistry,
} from './fixtures';
import { type ProxyServer, startProxy } from './proxy-server';

const PROXY_USER = { user: 'commuter', password: 'proxy-secret-2718' };
/** A name only the proxy can resolve (it sends every name to 127.0.0.1). */
const NAME = 'registry.behind-proxy.test';

let tlsRegistry: TestRegistry;
let plainRegistry: TestRegistry;
let files: FileServer;
let proxy: ProxyServer;
let workDir: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-proxy-'));
  tlsRegistry = await startRegistry({ tls: true });
  plainRegistry = await startRegistry();
  const busybox = await busyboxLayout();
  for (const registry of [tlsRegistry, plainRegistry]) {
    await seed({ layout: busybox, tag: 'busybox', registry, dest: 'library/busybox:1.0' });
  }
  files = await startFileServer({ '/files/note.txt': { body: 'through the proxy\n' } });
  proxy = await startProxy(PROXY_USER);
});

after(async () => {
  await proxy?.stop();
  await tlsRegistry?.stop();
  await plainRegistry?.stop();
  await files?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** The host:port of a loopback server under the name only the proxy resolves. */
const behindProxy = (hostPort: string) => `${NAME}:${hostPort.split(':')[1]}`;

const env = (extra: NodeJS.ProcessEnv = {}) =>
  clientEnv(workDir, undefined, { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, ...extra });

function project(
  t: TestContext,
  registry: TestRegistry,
  imports = '',
  run = 'echo ok > /ok',
): string {
  return projectDir(t, {
    'stacker.yaml': `
app:
  from:
    type: docker
    url: docker://${behindProxy(registry.host)}/library/busybox:1.0
    insecure: true
${imports}
  run: ${run}
`,
  });
}

test('a registry over TLS is reached through the proxy with CONNECT', async (t) => {
  if (!requireRoot(t)) return;
  proxy.requests.length = 0;
  const dir = project(t, tlsRegistry);
  const { log } = await buildIn(dir, { env: env() });
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');
  assert.ok(
    proxy.requests.includes(`CONNECT ${behindProxy(tlsRegistry.host)}`),
    proxy.requests.join('\n'),
  );
  assert.ok(!log.text().includes(PROXY_USER.password));
});

test('plain-http registries and downloads go to the proxy as absolute urls', async (t) => {
  if (!requireRoot(t)) return;
  proxy.requests.length = 0;
  const note = `http://${behindProxy(files.url.replace('http://', ''))}/files/note.txt`;
  const dir = project(
    t,
    plainRegistry,
    `  imports:\n    - ${note}`,
    'cp /stacker/imports/note.txt /',
  );
  await buildIn(dir, { env: env() });
  const sent = proxy.requests.join('\n');
  assert.match(
    sent,
    new RegExp(`GET http://${behindProxy(plainRegistry.host)}/v2/library/busybox`),
  );
  assert.match(sent, /GET http:\/\/registry\.behind-proxy\.test:\d+\/files\/note\.txt/);
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'note.txt'), 'utf8'), 'through the proxy\n');
});

test('NO_PROXY bypasses the proxy; a refusing proxy is named, not its password', async (t) => {
  if (!requireRoot(t)) return;
  // The name resolves only through the proxy, so bypassing it fails, naming the host.
  const dir = project(t, tlsRegistry);
  await assert.rejects(
    buildIn(dir, { env: env({ NO_PROXY: '.behind-proxy.test' }) }),
    (err: Error) => {
      assert.match(
        err.message,
        /couldn't reach registry registry\.behind-proxy\.test:\d+: .*host not found/,
      );
      assert.doesNotMatch(err.message, /through proxy/);
      return true;
    },
  );

  const wrong = proxy.url.replace(PROXY_USER.password, 'not-the-proxy-password');
  await assert.rejects(
    buildIn(dir, { env: env({ HTTPS_PROXY: wrong, HTTP_PROXY: wrong }) }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /proxy http:\/\/127\.0\.0\.1:\d+ refused to connect to .*: 407/);
      assert.match(err.hint ?? '', /proxy settings/);
      assert.ok(!`${err.message}${err.hint}`.includes('not-the-proxy-password'));
      return true;
    },
  );
});
