/**
 * The remote cache fixture server: first against the published API with plain HTTP requests,
 * then as Nx's own remote cache for a workspace with one cacheable task (no stacker involved).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CacheServer, startCacheServer } from './fixtures/cache-server';
import { createNxWorkspace, type NxWorkspace } from './fixtures/nx-workspace';

const TOKEN = 'read-write-secret';
const READ_ONLY = 'read-only-secret';

async function put(server: CacheServer, hash: string, body: string, token?: string) {
  return fetch(`${server.url}/v1/cache/${hash}`, {
    method: 'PUT',
    body,
    headers: {
      'Content-Type': 'application/octet-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
  });
}

async function get(server: CacheServer, hash: string, token?: string) {
  return fetch(`${server.url}/v1/cache/${hash}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

describe('cache server: the HTTP API', () => {
  let server: CacheServer;
  before(async () => {
    server = await startCacheServer({ token: TOKEN, readOnlyToken: READ_ONLY });
  });
  after(() => server.close());

  test('listens on 127.0.0.1 on a free port', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('PUT stores an entry that GET returns as application/octet-stream', async () => {
    const stored = await put(server, '1001', 'entry one', TOKEN);
    assert.equal(stored.status, 200);

    const got = await get(server, '1001', TOKEN);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await got.text(), 'entry one');
  });

  test('GET of an unknown hash is 404', async () => {
    assert.equal((await get(server, '404404', TOKEN)).status, 404);
  });

  test('a second PUT of a hash is 409 and the first entry stays', async () => {
    assert.equal((await put(server, '1002', 'first', TOKEN)).status, 200);
    assert.equal((await put(server, '1002', 'second', TOKEN)).status, 409);
    assert.equal(await (await get(server, '1002', TOKEN)).text(), 'first');
  });

  test('a missing or wrong token is 401, for GET and PUT alike', async () => {
    const missing = await get(server, '1001');
    assert.equal(missing.status, 401);
    // Nx shows the body of a 401 only when it is exactly text/plain.
    assert.equal(missing.headers.get('content-type'), 'text/plain');
    assert.equal((await get(server, '1001', 'wrong')).status, 401);
    assert.equal((await put(server, '1003', 'x', 'wrong')).status, 401);
    assert.equal((await get(server, '1003', TOKEN)).status, 404);
  });

  test('the read-only token reads, and its PUT is 403 and stores nothing', async () => {
    assert.equal(await (await get(server, '1001', READ_ONLY)).text(), 'entry one');
    const refused = await put(server, '1004', 'x', READ_ONLY);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /may read the cache, not write it/);
    assert.equal((await get(server, '1004', TOKEN)).status, 404);
  });

  test('a hash that is not a plain file name is 400 and touches no file', async () => {
    const response = await get(server, '..%2F..%2Fetc%2Fpasswd', TOKEN);
    assert.equal(response.status, 400);
  });

  test('answers while the test thread is blocked in spawnSync, and lists those requests', () => {
    const script =
      'fetch(process.argv[1] + "/v1/cache/1005", { headers: { Authorization: "Bearer " + ' +
      'process.argv[2] } }).then((r) => process.exit(r.status === 404 ? 0 : 1))';
    const child = spawnSync(process.execPath, ['-e', script, server.url, TOKEN], {
      timeout: 20_000,
    });
    assert.equal(child.status, 0, String(child.stderr));
    assert.deepEqual(server.requests.at(-1), {
      method: 'GET',
      path: '/v1/cache/1005',
      status: 404,
    });
  });

  test('records every request with method, path and status', () => {
    assert.deepEqual(server.requests.slice(0, 2), [
      { method: 'PUT', path: '/v1/cache/1001', status: 200 },
      { method: 'GET', path: '/v1/cache/1001', status: 200 },
    ]);
  });
});

describe('cache server: an open server and a given directory', () => {
  test('without tokens anyone may read and write; entries stay in dir after close', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cache-dir-'));
    const dir = join(parent, 'entries');
    const server = await startCacheServer({ dir });
    try {
      assert.equal((await put(server, '2001', 'open')).status, 200);
      assert.equal(await (await get(server, '2001')).text(), 'open');
    } finally {
      await server.close();
    }
    assert.deepEqual(readdirSync(dir), ['2001']);
    rmSync(parent, { recursive: true, force: true });
  });

  test('close removes the temp dir it created', async () => {
    const server = await startCacheServer();
    await put(server, '3001', 'x');
    await server.close();
    assert.equal(existsSync(server.dir), false);
  });
});

/** A workspace whose one task writes a file with a random stamp: a restore is recognisable. */
function stampWorkspace(): NxWorkspace {
  return createNxWorkspace({
    name: 'nx-remote-cache',
    files: {
      'app/project.json': {
        name: 'app',
        targets: {
          stamp: {
            executor: 'nx:run-commands',
            options: {
              command:
                "node -e \"const fs=require('fs');fs.mkdirSync('dist/app',{recursive:true});" +
                "fs.writeFileSync('dist/app/stamp.txt',String(Math.random()))\"",
            },
            cache: true,
            outputs: ['{workspaceRoot}/dist/app'],
          },
        },
      },
      'app/input.txt': 'input\n',
    },
  });
}

describe('cache server: as the remote cache of a real Nx workspace', () => {
  let server: CacheServer;
  let ws: NxWorkspace;
  before(async () => {
    server = await startCacheServer({ token: TOKEN, readOnlyToken: READ_ONLY });
    ws = stampWorkspace();
  });
  after(async () => {
    await server.close();
    ws?.remove();
  });

  const remote = (token: string, cacheDir: string) => ({
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
    NX_CACHE_DIRECTORY: join(ws.root, '.nx', cacheDir),
  });

  test('run 1 uploads; run 2 on a fresh machine restores the outputs [remote cache]', async () => {
    const first = await ws.nx(['run', 'app:stamp'], remote(TOKEN, 'cache-1'));
    assert.equal(first.status, 0, first.output);
    assert.doesNotMatch(first.output, /\[remote cache\]/);
    const stamp = ws.read('dist/app/stamp.txt');
    const puts = server.requests.filter((r) => r.method === 'PUT');
    assert.equal(puts.length, 1, JSON.stringify(server.requests));
    assert.equal(puts[0]?.status, 200);
    assert.equal(readdirSync(server.dir).length, 1);

    // A fresh machine: no outputs, an empty local cache.
    rmSync(join(ws.root, 'dist'), { recursive: true });
    const second = await ws.nx(['run', 'app:stamp'], remote(TOKEN, 'cache-2'));
    assert.equal(second.status, 0, second.output);
    assert.match(second.output, /\[remote cache\]/);
    assert.equal(ws.read('dist/app/stamp.txt'), stamp);
    assert.deepEqual(server.requests.at(-1), {
      method: 'GET',
      path: puts[0]?.path,
      status: 200,
    });
  });

  test('with the read-only token a miss runs the task and uploads nothing', async () => {
    ws.write('app/input.txt', 'changed\n');
    const entries = readdirSync(server.dir).length;
    const run = await ws.nx(['run', 'app:stamp'], remote(READ_ONLY, 'cache-3'));
    assert.equal(run.status, 0, run.output);
    assert.doesNotMatch(run.output, /\[remote cache\]/);
    assert.equal(server.requests.at(-1)?.status, 403);
    assert.equal(readdirSync(server.dir).length, entries);
  });

  test("a wrong token fails the run and Nx shows the server's message", async () => {
    const run = await ws.nx(['run', 'app:stamp'], remote('wrong-token', 'cache-4'));
    assert.notEqual(run.status, 0);
    assert.match(run.output, /Unauthorized: missing or invalid bearer token/);
  });
});
