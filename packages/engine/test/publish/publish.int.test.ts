import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { memoryLogger } from '../../src/log';
import type { PublishOptions } from '../../src/publish/options';
import { publish } from '../../src/publish/publish';
import {
  buildIn,
  busyboxLayout,
  projectDir,
  requireRoot,
  tagDigest,
  tempDir,
  writeFiles,
} from '../helpers';
import {
  clientEnv,
  seed,
  skopeoDigest,
  startAuthRegistry,
  type TestRegistry,
} from '../registry/fixtures';

const USER = 'publisher';
const PASSWORD = 'publish-secret-1234';
let registry: TestRegistry;
let workDir: string;
let authFile: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-publish-'));
  ({ registry, authFile } = await startAuthRegistry(workDir, { user: USER, password: PASSWORD }));
  await seed({
    layout: await busyboxLayout(),
    tag: 'busybox',
    registry,
    dest: 'library/busybox:1.0',
    authFile,
  });
});

after(async () => {
  await registry?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** base (from the registry), app and app2 on it, and a build_only layer. */
async function project(dir: string, appRun = 'echo app > /app'): Promise<void> {
  writeFiles(dir, {
    'stacker.yaml': `
base:
  from: {type: docker, url: "docker://${registry.host}/library/busybox:1.0", insecure: true}
  run: echo base > /base
tools:
  from: {type: built, tag: base}
  build_only: true
  run: echo tools > /tools
app:
  from: {type: built, tag: base}
  run: ${appRun}
app2:
  from: {type: built, tag: base}
  run: echo two > /two
`,
  });
}

const env = () => clientEnv(workDir, authFile);

/** A temp dir holding `project`, built. */
async function builtProject(t: TestContext): Promise<string> {
  const dir = tempDir(t);
  await project(dir);
  await buildIn(dir, { env: env() });
  return dir;
}

async function publishIn(dir: string, over: Partial<PublishOptions> = {}) {
  const log = memoryLogger();
  const images = await publish({
    stackerFiles: ['stacker.yaml'],
    cwd: dir,
    url: `docker://${registry.host}/team`,
    tags: ['1.0', 'latest'],
    username: USER,
    password: PASSWORD,
    skipTls: true,
    env: env(),
    log,
    ...over,
  });
  return { images, log };
}

test('publishes each layer under every tag with the digests of the OCI dir', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  await registry.clearLog();

  const { images, log } = await publishIn(dir);
  assert.deepEqual(
    images.map((i) => `${i.layer}:${i.tag}`),
    ['base:1.0', 'base:latest', 'app:1.0', 'app:latest', 'app2:1.0', 'app2:latest'],
  );
  for (const layer of ['base', 'app', 'app2']) {
    const local = tagDigest(join(dir, 'oci'), layer);
    for (const tag of ['1.0', 'latest']) {
      assert.equal(await skopeoDigest(registry, `team/${layer}:${tag}`, authFile), local);
    }
  }
  assert.match(log.text(), /will not publish: .*stacker\.yaml build_only tools/);
  assert.ok(!log.text().includes(PASSWORD));

  // Shared blobs went up once: mounted from the base's repository or from an earlier push.
  const served = await registry.served();
  const mounts = served.filter((r) => r.method === 'POST' && r.path.includes('mount='));
  assert.ok(mounts.some((r) => r.status === 201 && r.path.includes('from=library%2Fbusybox')));
  assert.ok(mounts.some((r) => r.status === 201 && r.path.includes('from=team%2Fbase')));
  const putBlobs = served.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'));
  const uploaded = putBlobs.map((r) => /digest=([^&]+)/.exec(r.path)?.[1]);
  assert.equal(new Set(uploaded).size, uploaded.length, 'no blob uploaded twice');
});

test('--show-only says what would be published and sends nothing', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  await registry.clearLog();

  const { images, log } = await publishIn(dir, { showOnly: true, images: ['app'] });
  assert.deepEqual(
    images.map((i) => i.published),
    [false, false],
  );
  assert.match(
    log.text(),
    new RegExp(`would publish: stacker\\.yaml app to docker://${registry.host}/team/app:1\\.0`),
  );
  assert.deepEqual(await registry.served(), []);
});

test('a layer changed since its build is refused unless --force', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  const built = tagDigest(join(dir, 'oci'), 'app');
  await project(dir, 'echo changed > /app');

  await assert.rejects(publishIn(dir, { images: ['app'] }), (err: Error & { hint?: string }) => {
    assert.match(err.message, /layer needs to be rebuilt before publishing: app/);
    assert.match(err.hint ?? '', /layer definition changed/);
    return true;
  });
  const { images } = await publishIn(dir, { images: ['app'], force: true, tags: ['forced'] });
  assert.equal(images[0]?.digest, built);
  assert.equal(await skopeoDigest(registry, 'team/app:forced', authFile), built);
});

test("a layer on a base built differently is refused with the base layer's reason", async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  const other = { ...env(), SOURCE_DATE_EPOCH: '1600000000' };
  await assert.rejects(
    publishIn(dir, { images: ['app'], env: other }),
    (err: Error & { hint?: string }) => {
      assert.match(err.message, /layer needs to be rebuilt before publishing: app/);
      assert.match(err.hint ?? '', /base layer base: SOURCE_DATE_EPOCH changed/);
      return true;
    },
  );
});

test('a publish without SOURCE_DATE_EPOCH takes the one the build used', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  const { SOURCE_DATE_EPOCH: _, ...unset } = env();
  const { images } = await publishIn(dir, { images: ['app'], tags: ['sde'], env: unset });
  const built = tagDigest(join(dir, 'oci'), 'app');
  assert.equal(images[0]?.digest, built);
  assert.equal(await skopeoDigest(registry, 'team/app:sde', authFile), built);
});

test('registries.conf: insecure stands in for --skip-tls; a blocked registry is refused', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  const conf = (extra: string) => {
    const file = join(dir, 'registries.conf');
    writeFileSync(file, `[[registry]]\nlocation = "${registry.host}"\n${extra}\n`);
    return { ...env(), CONTAINERS_REGISTRIES_CONF: file };
  };
  const { images } = await publishIn(dir, {
    images: ['app'],
    tags: ['conf'],
    skipTls: false,
    env: conf('insecure = true'),
  });
  assert.equal(images[0]?.digest, tagDigest(join(dir, 'oci'), 'app'));

  await assert.rejects(
    publishIn(dir, { images: ['app'], tags: ['blocked'], env: conf('blocked = true') }),
    /registry 127\.0\.0\.1:\d+ is blocked in .*registries\.conf, so .* cannot be pushed/,
  );
});

test('publishes into an OCI layout as <layer>_<tag>', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  const out = join(dir, 'published');

  await publishIn(dir, { url: `oci:${out}`, username: undefined, password: undefined });
  for (const layer of ['base', 'app', 'app2']) {
    for (const tag of ['1.0', 'latest']) {
      assert.equal(tagDigest(out, `${layer}_${tag}`), tagDigest(join(dir, 'oci'), layer));
    }
  }
  execFileSync('skopeo', ['inspect', `oci:${out}:app_1.0`], { stdio: 'pipe' });
});

test('a refused push names the problem, not the password; the OCI dir is unchanged', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await builtProject(t);
  const oci = join(dir, 'oci');
  const before = {
    index: readFileSync(join(oci, 'index.json')),
    blobs: readdirSync(join(oci, 'blobs/sha256')),
  };

  await assert.rejects(
    publishIn(dir, { password: 'a-wrong-password' }),
    (err: Error & { hint?: string }) => {
      assert.match(
        err.message,
        /couldn't publish layer base: registry .* refused the credentials from --username\//,
      );
      assert.ok(!`${err.message} ${err.hint}`.includes('a-wrong-password'));
      return true;
    },
  );
  assert.deepEqual(readFileSync(join(oci, 'index.json')), before.index);
  assert.deepEqual(readdirSync(join(oci, 'blobs/sha256')), before.blobs);
  execFileSync('skopeo', ['inspect', `oci:${oci}:app`], { stdio: 'pipe' });
});

test('credentials: both or neither, never echoed; the auth file when no flags', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await assert.rejects(publishIn(dir, { username: USER, password: undefined }), (err: Error) => {
    assert.match(err.message, /supply both username and password, or none of them/);
    assert.ok(!err.message.includes(USER));
    return true;
  });

  await project(dir);
  await buildIn(dir, { env: env() });
  const { images } = await publishIn(dir, {
    username: undefined,
    password: undefined,
    images: ['app2'],
    tags: ['from-auth-file'],
  });
  assert.equal(
    await skopeoDigest(registry, 'team/app2:from-auth-file', authFile),
    images[0]?.digest,
  );
});

test('an image holding the password (via --substitute) is not published', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
leaky:
  from: {type: oci, url: "${await busyboxLayout()}:busybox"}
  labels:
    token: \${{TOKEN}}
`,
  });
  await buildIn(dir, { env: env(), substitutions: [`TOKEN=${PASSWORD}`] });
  await assert.rejects(
    publishIn(dir, { substitutions: [`TOKEN=${PASSWORD}`] }),
    /the image contains the password given with --password/,
  );
});
