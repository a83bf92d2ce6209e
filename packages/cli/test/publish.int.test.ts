import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  busyboxLayout,
  readManifest,
  requireRoot,
  runCli,
  tagDigest,
  tempDir,
  writeFiles,
} from '../../engine/test/helpers';
import {
  skopeoDigest,
  startRegistry,
  type TestRegistry,
  writeAuthFile,
} from '../../engine/test/registry/fixtures';

const USER = 'cli-publisher';
const PASSWORD = 'cli-secret-31337';
let registry: TestRegistry;
let workDir: string;
let authFile: string;

before(async () => {
  registry = await startRegistry({ auth: { user: USER, password: PASSWORD } });
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-cli-publish-'));
  authFile = writeAuthFile(workDir, { [registry.host]: { user: USER, password: PASSWORD } });
});

after(async () => {
  await registry?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function builtProject(dir: string): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
web:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  run: echo web > /web
`,
  });
  const r = runCli(['build'], dir);
  assert.equal(r.status, 0, r.stderr);
}

test("help publish lists stacker's publish flags", () => {
  const r = runCli(['help', 'publish'], process.cwd());
  assert.equal(r.status, 0);
  for (const flag of ['--url', '--tag', '--username', '--password', '--skip-tls', '--image']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
  for (const flag of ['--layer-type', '--show-only', '--force', '--search-dir', '--gzip-level']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('publish sends the layer under each --tag with the local digest', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await builtProject(dir);

  const url = `docker://${registry.host}/cli`;
  const r = runCli(
    [
      'publish',
      '--url',
      url,
      '--tag',
      'v1',
      '--tag',
      'v2',
      '--username',
      USER,
      '--password',
      PASSWORD,
      '--skip-tls',
    ],
    dir,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`publishing stacker\\.yaml web to ${url}/web:v1`));
  assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD));
  const local = tagDigest(join(dir, 'oci'), 'web');
  for (const tag of ['v1', 'v2']) {
    assert.equal(await skopeoDigest(registry, `cli/web:${tag}`, authFile), local);
  }
});

test('publish --show-only prints the destinations and sends nothing', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await builtProject(dir);
  await registry.clearLog();

  const url = `docker://${registry.host}/dry`;
  const r = runCli(['publish', '--url', url, '--tag', 'x', '--show-only'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`would publish: stacker\\.yaml web to ${url}/web:x`));
  assert.deepEqual(await registry.served(), []);
});

test('publish refuses a username without a password, and a missing --url', (t) => {
  const dir = tempDir(t);
  const half = runCli(['publish', '--url', 'docker://r/x', '--tag', 'a', '--username', USER], dir);
  assert.equal(half.status, 1);
  assert.match(half.stderr, /supply both username and password, or none of them/);
  assert.ok(!half.stderr.includes(USER));

  const nourl = runCli(['publish', '--tag', 'a'], dir);
  assert.equal(nourl.status, 1);
  assert.match(nourl.stderr, /--url is a mandatory argument for publishing/);
});

test('a substitution publish is not given becomes "dummy", as in stacker: --force sends the tag', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': `
web:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  run: echo \${{VERSION}} > /version
`,
  });
  assert.equal(runCli(['build', '--substitute', 'VERSION=1.2'], dir).status, 0);
  const dest = `oci:${join(dir, 'pub')}`;

  const refused = runCli(['publish', '--url', dest, '--tag', 't'], dir);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /no value for substitution VERSION: using "dummy"/);
  assert.match(refused.stderr, /layer needs to be rebuilt before publishing: web/);

  const forced = runCli(['publish', '--url', dest, '--tag', 't', '--force'], dir);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(tagDigest(join(dir, 'pub'), 'web_t'), tagDigest(join(dir, 'oci'), 'web'));
});

test('publish refuses a bad --url or --tag before it writes anything', (t) => {
  const dir = tempDir(t);
  const url = runCli(['publish', '--url', 'docker://127.0.0.1:1/Bad NS', '--tag', 'a'], dir);
  assert.equal(url.status, 1);
  assert.match(
    url.stderr,
    /invalid --url docker:\/\/127\.0\.0\.1:1\/Bad NS: repository 'Bad NS\/layer'/,
  );

  for (const dest of ['docker://r/x', `oci:${dir}/pub`]) {
    const tag = runCli(['publish', '--url', dest, '--tag', 'bad tag!'], dir);
    assert.equal(tag.status, 1, dest);
    assert.match(tag.stderr, /invalid --tag "bad tag!"/);
  }
  assert.ok(!existsSync(join(dir, 'pub')), 'no layout created');
});

test('--gzip-level 1 packs bigger blobs; publish finds the level the build used', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': `
nums:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  run: seq 1 200000 > /numbers
`,
  });
  const topLayer = () => readManifest(join(dir, 'oci'), 'nums').layers.at(-1)!;

  const fast = runCli(['build', '--gzip-level', '1'], dir);
  assert.equal(fast.status, 0, fast.stderr);
  const level1 = topLayer();
  const published = runCli(['publish', '--url', `oci:${join(dir, 'out')}`, '--tag', 'v1'], dir);
  assert.equal(published.status, 0, published.stderr);
  assert.equal(tagDigest(join(dir, 'out'), 'nums_v1'), tagDigest(join(dir, 'oci'), 'nums'));

  const normal = runCli(['build'], dir);
  assert.equal(normal.status, 0, normal.stderr);
  assert.match(normal.stderr, /nums: building \(build settings changed\)/);
  const level6 = topLayer();
  assert.notEqual(level6.digest, level1.digest);
  assert.ok(level6.size < level1.size, `${level6.size} < ${level1.size}`);

  for (const bad of ['0', '10', 'fast']) {
    const r = runCli(['build', '--gzip-level', bad], dir);
    assert.equal(r.status, 1, bad);
    assert.match(
      r.stderr,
      new RegExp(`invalid (--)?gzip.level ${bad}: it is a whole number from 1 to 9`),
    );
  }
});
