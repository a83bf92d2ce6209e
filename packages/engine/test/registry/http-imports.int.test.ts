import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  buildIn,
  busyboxLayout,
  projectDir,
  requireRoot,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';
import { clientEnv, type FileServer, sha256Hex, startFileServer, writeAuthFile } from './fixtures';

const HELLO = 'hello over http\n';
const PASSWORD = 'download-secret-99';
let files: FileServer;
let privateFiles: FileServer;
let workDir: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-http-'));
  writeFiles(workDir, { 'tree/etc/from-tarball': 'from the tarball\n' });
  execFileSync('tar', ['-czf', join(workDir, 'base.tar.gz'), '-C', join(workDir, 'tree'), '.']);
  files = await startFileServer({
    '/files/hello.txt': { body: HELLO, checksum: true },
    '/files/plain.txt': { body: 'version 1\n' },
    '/files/tagged.txt': { body: 'version 1\n', etag: true },
    '/files/lying.txt': { body: 'real content\n', checksum: sha256Hex('other content\n') },
    '/files/base.tar.gz': { body: readFileSync(join(workDir, 'base.tar.gz')) },
  });
  privateFiles = await startFileServer(
    { '/private/secret.txt': { body: 'for authorised eyes\n' } },
    { auth: { user: 'reader', password: PASSWORD } },
  );
});

after(async () => {
  await files?.stop();
  await privateFiles?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function project(
  dir: string,
  imports: string,
  run = 'cp -r /stacker/imports /out',
): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
app:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  imports:
${imports}
  run: ${run}
`,
  });
}

const env = (extra: NodeJS.ProcessEnv = {}) => clientEnv(workDir, undefined, extra);

test('an http import with a hash is downloaded, checked and staged', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(
    dir,
    `    - path: ${files.url}/files/hello.txt\n      hash: ${sha256Hex(HELLO).toUpperCase()}`,
  );
  const { log } = await buildIn(dir, { env: env() });
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'out/hello.txt'), 'utf8'), HELLO);
  assert.match(log.text(), new RegExp(`downloading ${files.url}/files/hello.txt`));

  // Pinned by its hash, a cached layer does not even ask the server.
  files.requests.length = 0;
  const again = await buildIn(dir, { env: env() });
  assert.equal(again.summary.layers[0]?.status, 'reused');
  assert.deepEqual(files.requests, []);
});

test('an http import without a hash is checked with HEAD, rebuilt when it changes', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, `    - ${files.url}/files/plain.txt`);
  await buildIn(dir, { env: env() });

  files.requests.length = 0;
  const same = await buildIn(dir, { env: env() });
  assert.equal(same.summary.layers[0]?.status, 'reused');
  assert.deepEqual(files.requests, ['HEAD /files/plain.txt'], 'no second download');

  files.files.set('/files/plain.txt', { body: 'version 22\n' });
  const changed = await buildIn(dir, { env: env() });
  assert.equal(changed.summary.layers[0]?.status, 'built');
  assert.match(changed.summary.layers[0]?.reason ?? '', /import .*plain\.txt changed/);
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'out/plain.txt'), 'utf8'), 'version 22\n');
});

test('an ETag catches a change that keeps the size (stacker keeps the old copy)', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, `    - ${files.url}/files/tagged.txt`);
  await buildIn(dir, { env: env() });
  files.files.set('/files/tagged.txt', { body: 'version 2\n', etag: true });
  const changed = await buildIn(dir, { env: env() });
  assert.equal(changed.summary.layers[0]?.status, 'built');
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'out/tagged.txt'), 'utf8'), 'version 2\n');
});

test('a hash that does not match is refused and nothing is kept', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const wrong = sha256Hex('something else');

  // The server's checksum header already disagrees: refused before downloading.
  await project(dir, `    - path: ${files.url}/files/hello.txt\n      hash: ${wrong}`);
  await assert.rejects(buildIn(dir, { env: env() }), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(
        `The requested hash of ${files.url}/files/hello.txt import is different than the ` +
          `actual hash: ${wrong} != ${sha256Hex(HELLO)}`,
      ),
    );
    return true;
  });

  // No header: the downloaded bytes are checked, and deleted.
  await project(dir, `    - path: ${files.url}/files/plain.txt\n      hash: ${wrong}`);
  await assert.rejects(
    buildIn(dir, { env: env() }),
    /Downloaded file hash does not match\. Expected: [0-9a-f]{64} Actual: [0-9a-f]{64}/,
  );
  const downloads = join(dir, '.stacker/downloads');
  for (const d of readdirSync(downloads)) assert.deepEqual(readdirSync(join(downloads, d)), []);
});

test("a download that does not match the server's checksum header is refused", async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, `    - ${files.url}/files/lying.txt`);
  await assert.rejects(
    buildIn(dir, { env: env() }),
    /does not match the server's x-checksum-sha256 header/,
  );
});

test('--require-hash refuses http imports without a hash', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await project(dir, `    - ${files.url}/files/plain.txt`);
  await assert.rejects(
    buildIn(dir, { env: env(), requireHash: true }),
    /Remote import needs a hash in yaml for path: http:\/\/127\.0\.0\.1:\d+\/files\/plain\.txt/,
  );
});

test('credentials come from the auth file entry with the longest matching prefix', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const host = new URL(privateFiles.url).host;
  const auth = writeAuthFile(dir, {
    [host]: { user: 'reader', password: 'the-wrong-one' },
    [`${host}/private`]: { user: 'reader', password: PASSWORD },
  });
  await project(
    dir,
    `    - path: ${privateFiles.url}/private/secret.txt\n      dest: /opt/renamed.txt`,
    'ls /opt',
  );
  const { log } = await buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: auth }) });
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'opt/renamed.txt'), 'utf8'), 'for authorised eyes\n');
  assert.ok(!log.text().includes(PASSWORD));

  // Without credentials: the server's 401 is explained, no secret shown.
  const none = writeAuthFile(tempDir(t), {});
  await assert.rejects(
    buildIn(tempDirWith(t, dir), { env: env({ REGISTRY_AUTH_FILE: none }) }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /couldn't download .*secret\.txt: 401/);
      assert.match(err.hint ?? '', /wants credentials/);
      return true;
    },
  );
});

test('a tar base can be an http url', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: {type: tar, url: "${files.url}/files/base.tar.gz"}
`,
  });
  await buildIn(dir, { env: env() });
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'etc/from-tarball'), 'utf8'), 'from the tarball\n');
  assert.ok(existsSync(join(dir, '.stacker/downloads')));
});

/** A fresh project dir with the stacker file of `dir` (a clean stacker dir). */
function tempDirWith(t: Parameters<typeof tempDir>[0], dir: string): string {
  return projectDir(t, { 'stacker.yaml': readFileSync(join(dir, 'stacker.yaml'), 'utf8') });
}
