import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
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
