import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StackerError } from '../../src/errors';
import { authFilePaths, findCredentials } from '../../src/registry/auth-file';

function home(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function authJson(path: string, auths: Record<string, string>): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const entries = Object.fromEntries(
    Object.entries(auths).map(([k, v]) => [k, { auth: Buffer.from(v).toString('base64') }]),
  );
  writeFileSync(path, JSON.stringify({ auths: entries }));
}

test('auth files are searched in the containers order', (t) => {
  const h = home(t);
  assert.deepEqual(
    authFilePaths({ HOME: h, REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/u' }),
    [
      '/a.json',
      '/run/u/containers/auth.json',
      join(h, '.config/containers/auth.json'),
      join(h, '.docker/config.json'),
    ],
  );
});

test('XDG_CONFIG_HOME and DOCKER_CONFIG move the per-user files', (t) => {
  const h = home(t);
  assert.deepEqual(authFilePaths({ HOME: h, XDG_CONFIG_HOME: '/cfg', DOCKER_CONFIG: '/dock' }), [
    '/cfg/containers/auth.json',
    '/dock/config.json',
  ]);
});

test('the longest matching key wins, within the first file that matches', (t) => {
  const h = home(t);
  authJson(join(h, '.config/containers/auth.json'), {
    'reg.example': 'host:pw1',
    'reg.example/team': 'team:pw2',
  });
  authJson(join(h, '.docker/config.json'), { 'reg.example/team/app': 'docker:pw3' });
  const env = { HOME: h };

  const team = findCredentials('reg.example/team/app', env);
  assert.equal(team?.username, 'team');
  assert.equal(team?.password, 'pw2');
  assert.match(team?.source ?? '', /containers\/auth\.json \(reg\.example\/team\)$/);
  assert.equal(findCredentials('reg.example/other/app', env)?.username, 'host');
  assert.equal(findCredentials('elsewhere.example/app', env), undefined);
});

test("Docker's legacy url keys are matched by host", (t) => {
  const h = home(t);
  authJson(join(h, '.docker/config.json'), { 'https://index.docker.io/v1/': 'hub:pw' });
  assert.equal(findCredentials('docker.io/library/ubuntu', { HOME: h })?.username, 'hub');
});

test('a broken auth file is named, its content never shown', (t) => {
  const h = home(t);
  const file = join(h, 'auth.json');
  writeFileSync(file, '{"auths": {"reg": {"auth": "c2VjcmV0"}}');
  assert.throws(
    () => findCredentials('reg/app', { HOME: h, REGISTRY_AUTH_FILE: file }),
    (err: Error) => err.message.includes(file) && !err.message.includes('c2VjcmV0'),
  );
});

/**
 * A credential helper `docker-credential-<name>` in a new dir; `script` is its shell body for
 * `get` (the registry is on stdin). Returns the env that finds it on PATH.
 */
function helper(t: { after(fn: () => void): void }, name: string, script: string) {
  const bin = home(t);
  const path = join(bin, `docker-credential-${name}`);
  writeFileSync(path, `#!/bin/sh\n[ "$1" = get ] || exit 3\nread registry\n${script}\n`);
  chmodSync(path, 0o755);
  return { PATH: `${bin}:${process.env.PATH}` };
}

function authFileWith(t: { after(fn: () => void): void }, contents: object): string {
  const file = join(home(t), 'auth.json');
  writeFileSync(file, JSON.stringify(contents));
  return file;
}

test('a credential helper named for the registry answers first, as Docker helpers do', (t) => {
  const path = helper(
    t,
    'vault',
    'echo "{\\"ServerURL\\":\\"$registry\\",\\"Username\\":\\"robot-$registry\\",\\"Secret\\":\\"s3cret\\"}"',
  );
  const file = authFileWith(t, {
    credHelpers: { 'reg.example:5000': 'vault' },
    auths: { 'reg.example:5000': { auth: Buffer.from('file:pw').toString('base64') } },
  });
  const creds = findCredentials('reg.example:5000/team/app', { REGISTRY_AUTH_FILE: file, ...path });
  assert.equal(creds?.username, 'robot-reg.example:5000');
  assert.equal(creds?.password, 's3cret');
  assert.match(creds?.source ?? '', /docker-credential-vault \(credHelpers of .*auth\.json/);
  // Another registry is not the helper's: the helper is not asked (it would fail here).
  assert.equal(
    findCredentials('other.example/app', { REGISTRY_AUTH_FILE: file, ...path }),
    undefined,
  );
});

test('a helper without credentials for the registry lets the auths entries answer', (t) => {
  const path = helper(t, 'empty', 'echo "credentials not found in native keychain"; exit 1');
  const file = authFileWith(t, {
    credHelpers: { 'reg.example': 'empty' },
    auths: { 'reg.example': { auth: Buffer.from('file:pw').toString('base64') } },
  });
  assert.equal(
    findCredentials('reg.example/app', { REGISTRY_AUTH_FILE: file, ...path })?.username,
    'file',
  );
});

test('a missing or failing helper is an error naming it, never showing what it printed', (t) => {
  const file = authFileWith(t, { credHelpers: { 'reg.example': 'absent' } });
  assert.throws(
    () => findCredentials('reg.example/app', { REGISTRY_AUTH_FILE: file, PATH: '/nonexistent' }),
    (err: StackerError) =>
      /credential helper docker-credential-absent is not installed/.test(err.message) &&
      /credHelpers in .*auth\.json/.test(err.hint ?? ''),
  );

  const broken = helper(
    t,
    'broken',
    'echo "{\\"Secret\\": \\"leaked-4711\\""; echo "vault sealed" >&2; exit 1',
  );
  const other = authFileWith(t, { credHelpers: { 'reg.example': 'broken' } });
  assert.throws(
    () => findCredentials('reg.example/app', { REGISTRY_AUTH_FILE: other, ...broken }),
    (err: StackerError) =>
      /docker-credential-broken .*failed: vault sealed/.test(err.message) &&
      !err.format().includes('leaked-4711'),
  );
});

test('identity tokens: an entry with identitytoken, or a helper answering as <token>', (t) => {
  const placeholder = Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64');
  const file = authFileWith(t, {
    auths: {
      'acr.example': { auth: placeholder, identitytoken: 'refresh-0815' },
      'bare.example': { identitytoken: 'refresh-4711' },
    },
  });
  const acr = findCredentials('acr.example/team/app', { REGISTRY_AUTH_FILE: file });
  assert.equal(acr?.identityToken, 'refresh-0815');
  assert.equal(acr?.password, '');
  assert.equal(
    findCredentials('bare.example/app', { REGISTRY_AUTH_FILE: file })?.identityToken,
    'refresh-4711',
  );

  const path = helper(
    t,
    'oauth',
    'echo "{\\"Username\\":\\"<token>\\",\\"Secret\\":\\"refresh-42\\"}"',
  );
  const helped = authFileWith(t, { credHelpers: { 'acr.example': 'oauth' } });
  const creds = findCredentials('acr.example/app', { REGISTRY_AUTH_FILE: helped, ...path });
  assert.deepEqual(
    { user: creds?.username, password: creds?.password, token: creds?.identityToken },
    { user: '', password: '', token: 'refresh-42' },
  );
});

test("Docker's default store (credsStore) answers when nothing else in the file does", (t) => {
  // Docker's helpers store Docker Hub under its v1 url: answer only for that and reg.example.
  const path = helper(
    t,
    'store',
    [
      'case "$registry" in',
      '  https://index.docker.io/v1/|reg.example) ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
      'echo "{\\"Username\\":\\"store-$registry\\",\\"Secret\\":\\"pw\\"}"',
    ].join('\n'),
  );
  const file = authFileWith(t, {
    credsStore: 'store',
    auths: {
      'https://index.docker.io/v1/': {},
      'reg.example': {},
      'other.example': { auth: Buffer.from('file:pw').toString('base64') },
    },
  });
  const env = { REGISTRY_AUTH_FILE: file, ...path };
  const hub = findCredentials('docker.io/library/ubuntu', env);
  assert.equal(hub?.username, 'store-https://index.docker.io/v1/');
  assert.match(hub?.source ?? '', /docker-credential-store \(credsStore of .*auth\.json/);
  assert.equal(findCredentials('reg.example/app', env)?.username, 'store-reg.example');
  assert.equal(findCredentials('other.example/app', env)?.username, 'file', 'auths first');
  assert.equal(findCredentials('unknown.example/app', env), undefined);

  // A store that is not installed here is passed over: anonymous pulls still work.
  const absent = authFileWith(t, { credsStore: 'desktop' });
  assert.equal(
    findCredentials('reg.example/app', { REGISTRY_AUTH_FILE: absent, PATH: '/nonexistent' }),
    undefined,
  );
});
