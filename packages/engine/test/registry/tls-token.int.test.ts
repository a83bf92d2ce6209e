import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { buildIn, busyboxLayout, projectDir, requireRoot, umociUnpack } from '../helpers';
import {
  clientEnv,
  seed,
  startRegistry,
  startTokenServer,
  type TestRegistry,
  type TokenServer,
  writeAuthFile,
} from './fixtures';

const USER = 'robot';
const PASSWORD = 'token-secret-0815';
const IDENTITY_TOKEN = 'refresh-token-4711-abcdef';
let tlsRegistry: TestRegistry;
let tokenRegistry: TestRegistry;
let tokens: TokenServer;
let workDir: string;
let authFile: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-tls-'));
  tlsRegistry = await startRegistry({ tls: true });
  tokens = await startTokenServer(workDir, { user: USER, password: PASSWORD }, IDENTITY_TOKEN);
  tokenRegistry = await startRegistry({ token: tokens.token });
  authFile = writeAuthFile(workDir, { [tokenRegistry.host]: { user: USER, password: PASSWORD } });

  const busybox = await busyboxLayout();
  await seed({
    layout: busybox,
    tag: 'busybox',
    registry: tlsRegistry,
    dest: 'library/busybox:1.0',
  });
  await seed({
    layout: busybox,
    tag: 'busybox',
    registry: tokenRegistry,
    dest: 'team/busybox:1.0',
    authFile,
  });
});

after(async () => {
  await tlsRegistry?.stop();
  await tokenRegistry?.stop();
  await tokens?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** A temp project whose one layer, on the image at `url`, writes /ok. */
function project(t: TestContext, url: string, insecure: boolean): string {
  return projectDir(t, {
    'stacker.yaml': `
app:
  from: {type: docker, url: "${url}", insecure: ${insecure}}
  run: echo ok > /ok
`,
  });
}

const env = (extra: NodeJS.ProcessEnv = {}) => clientEnv(workDir, authFile, extra);

test('TLS with a self-signed certificate: insecure skips the verification', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tlsRegistry.host}/library/busybox:1.0`, true);
  await buildIn(dir, { env: env() });
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');
  const served = await tlsRegistry.served();
  assert.ok(
    served.some((r) => r.path.includes('/blobs/')),
    'blobs came over TLS',
  );
});

test('TLS: a certificate trusted through NODE_EXTRA_CA_CERTS needs no insecure', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tlsRegistry.host}/library/busybox:1.0`, false);
  const { summary } = await buildIn(dir, {
    env: env({ NODE_EXTRA_CA_CERTS: tlsRegistry.certFile }),
  });
  assert.equal(summary.layers[0]?.status, 'built');
});

test('TLS: an untrusted certificate fails with what to do', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tlsRegistry.host}/library/busybox:1.0`, false);
  await assert.rejects(buildIn(dir, { env: env() }), (err: Error & { hint?: string }) => {
    assert.match(
      err.message,
      /couldn't reach registry 127\.0\.0\.1:\d+: .*self-signed certificate/,
    );
    assert.match(err.hint ?? '', /NODE_EXTRA_CA_CERTS.*insecure: true/);
    return true;
  });
});

test('a plain-http registry without insecure: the hint says to set it', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tokenRegistry.host}/team/busybox:1.0`, false);
  await assert.rejects(buildIn(dir, { env: env() }), (err: Error & { hint?: string }) => {
    assert.match(err.message, /couldn't reach registry/);
    assert.match(err.hint ?? '', /plain http: set insecure: true/);
    return true;
  });
});

test('Bearer tokens: asked for with the credentials of the auth file', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tokenRegistry.host}/team/busybox:1.0`, true);
  tokens.requests.length = 0;
  const { log } = await buildIn(dir, { env: env() });
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');
  assert.deepEqual(tokens.requests, [`${USER} repository:team/busybox:pull`]);
  assert.ok(!log.text().includes(PASSWORD));
});

test('Bearer tokens: refused credentials are reported without being shown', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tokenRegistry.host}/team/busybox:1.0`, true);
  const wrong = writeAuthFile(dir, {
    [tokenRegistry.host]: { user: USER, password: 'wrong-one-42' },
  });
  await assert.rejects(
    buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: wrong }) }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /refused the credentials/);
      assert.ok(!`${err.message}${err.hint}`.includes('wrong-one-42'));
      return true;
    },
  );
});

/** An auth file whose entry for the token registry holds `identityToken`, as logins write it. */
function identityAuthFile(dir: string, identityToken: string): string {
  const file = join(dir, 'identity-auth.json');
  const auth = Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64');
  writeFileSync(
    file,
    JSON.stringify({ auths: { [tokenRegistry.host]: { auth, identitytoken: identityToken } } }),
  );
  return file;
}

test('Bearer tokens: an identity token is exchanged with a refresh-token grant', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tokenRegistry.host}/team/busybox:1.0`, true);
  tokens.requests.length = 0;
  const file = identityAuthFile(dir, IDENTITY_TOKEN);
  const { log } = await buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: file }) });
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');
  assert.deepEqual(tokens.requests, ['identity repository:team/busybox:pull']);
  assert.ok(!log.text().includes(IDENTITY_TOKEN));
});

test('Bearer tokens: a refused identity token says to log in again, without showing it', async (t) => {
  if (!requireRoot(t)) return;
  const dir = project(t, `docker://${tokenRegistry.host}/team/busybox:1.0`, true);
  const file = identityAuthFile(dir, 'expired-refresh-token-99');
  await assert.rejects(
    buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: file }) }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /refused the identity token from .*identity-auth\.json/);
      assert.match(err.hint ?? '', /log in again/);
      assert.ok(!`${err.message}${err.hint}`.includes('expired-refresh-token-99'));
      return true;
    },
  );
});
