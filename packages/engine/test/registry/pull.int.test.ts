import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OciLayout } from '../../src/oci/layout';
import type { Descriptor, ImageManifest } from '../../src/oci/types';
import {
  buildIn,
  busyboxLayout,
  projectDir,
  requireRoot,
  skopeoConfig,
  umociUnpack,
} from '../helpers';
import {
  clientEnv,
  seed,
  skopeoDigest,
  startAuthRegistry,
  startRegistry,
  type TestRegistry,
  writeAuthFile,
} from './fixtures';
import { multiPlatformLayout, variantLayout } from './images';

const USER = 'builder';
const PASSWORD = 'pull-secret-4711';
let registry: TestRegistry;
let authFile: string;
let workDir: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-pull-'));
  ({ registry, authFile } = await startAuthRegistry(workDir, { user: USER, password: PASSWORD }));
  const to = (layout: string, tag: string, dest: string) =>
    seed({ layout, tag, registry, dest, authFile });
  await to(await busyboxLayout(), 'busybox', 'library/busybox:1.0');
  await to(await variantLayout('v2', { 'etc/release': 'two\n' }), 'v2', 'library/busybox:2.0');
  await to(await multiPlatformLayout(), 'multi', 'library/multi:1');
});

after(async () => {
  await registry?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** A `from:` value pulling `ref` from the registry at `host` (the shared one) over http. */
function fromRegistry(ref: string, host = registry.host): string {
  return `{type: docker, url: "docker://${host}/${ref}", insecure: true}`;
}

const env = (extra: NodeJS.ProcessEnv = {}) => clientEnv(workDir, authFile, extra);

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 64 << 20 && readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

test('builds on a registry base with basic auth over plain http (insecure)', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('library/busybox:1.0')}
  run: echo built on the registry base > /hello
`,
  });

  const { summary, log } = await buildIn(dir, { env: env() });
  assert.equal(summary.layers[0]?.status, 'built');
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(rootfs, 'hello'), 'utf8'), 'built on the registry base\n');
  assert.ok(existsSync(join(rootfs, 'bin/busybox')));
  assert.match(log.text(), /loading docker:\/\/127\.0\.0\.1:\d+\/library\/busybox:1\.0/);

  // The pulled image is stacker's layer-bases/oci, with the registry's digest.
  const bases = await OciLayout.open(join(dir, '.stacker/layer-bases/oci'), { create: false });
  const tag = `${registry.host}/library/busybox:1.0@linux-amd64`;
  assert.equal(
    bases.resolveTag(tag)?.digest,
    await skopeoDigest(registry, 'library/busybox:1.0', authFile),
  );

  // The password is nowhere: not in the log, the stacker dir, the roots or the OCI dir.
  const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  for (const secret of [PASSWORD, basic]) {
    assert.ok(!log.text().includes(secret), 'log');
    assert.deepEqual(filesContaining(dir, secret), []);
  }
});

test('credentials can come from a credential helper: credHelpers, or credsStore', async (t) => {
  if (!requireRoot(t)) return;
  const bin = mkdtempSync(join(tmpdir(), 'nx-stacker-helper-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const program = join(bin, 'docker-credential-test');
  const answer = JSON.stringify({ Username: USER, Secret: PASSWORD });
  writeFileSync(
    program,
    `#!/bin/sh\nread registry\necho "$registry" >> ${bin}/asked\necho '${answer}'\n`,
  );
  chmodSync(program, 0o755);
  const configs = {
    credHelpers: { credHelpers: { [registry.host]: 'test' } },
    // As Docker writes it when a default store keeps the secrets: an empty entry.
    credsStore: { auths: { [registry.host]: {} }, credsStore: 'test' },
  };
  for (const [setting, config] of Object.entries(configs)) {
    const helperAuth = join(bin, `${setting}.json`);
    writeFileSync(helperAuth, JSON.stringify(config));
    rmSync(join(bin, 'asked'), { force: true });
    const dir = projectDir(t, {
      'stacker.yaml': `
app:
  from: ${fromRegistry('library/busybox:1.0')}
  run: echo via the helper > /hello
`,
    });

    const { summary, log } = await buildIn(dir, {
      env: clientEnv(workDir, helperAuth, { PATH: `${bin}:${process.env.PATH}` }),
    });
    assert.equal(summary.layers[0]?.status, 'built', setting);
    const asked = readFileSync(join(bin, 'asked'), 'utf8').trim().split('\n')[0];
    assert.equal(asked, registry.host, setting);
    assert.ok(!log.text().includes(PASSWORD));
    assert.deepEqual(filesContaining(dir, PASSWORD), []);
  }
});

test('a second build asks the registry for the manifest only', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('library/busybox:1.0')}
  run: touch /marker
`,
  });
  await buildIn(dir, { env: env() });
  await registry.clearLog();

  const { summary } = await buildIn(dir, { env: env() });
  assert.equal(summary.layers[0]?.status, 'reused');
  const served = await registry.served();
  assert.ok(served.length > 0);
  for (const r of served) {
    assert.match(r.path, /^\/v2\/library\/busybox\/manifests\/1\.0$/, `${r.method} ${r.path}`);
  }
});

test('a Docker schema 2 image is kept with OCI media types, as stacker keeps it', async (t) => {
  if (!requireRoot(t)) return;
  await seed({
    layout: await busyboxLayout(),
    tag: 'busybox',
    registry,
    dest: 'library/busybox:docker',
    authFile,
    format: 'v2s2',
  });
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('library/busybox:docker')}
  run: echo ok > /ok
`,
  });
  await buildIn(dir, { env: env() });
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');

  const bases = await OciLayout.open(join(dir, '.stacker/layer-bases/oci'), { create: false });
  const desc = bases.resolveTag(`${registry.host}/library/busybox:docker@linux-amd64`);
  assert.equal(desc?.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const manifest = await bases.readJson<ImageManifest>(desc as Descriptor);
  assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
  assert.deepEqual(
    manifest.layers.map((l) => l.mediaType),
    ['application/vnd.oci.image.layer.v1.tar+gzip'],
  );

  // The next build still only asks for the manifest: the Docker one is kept too.
  await registry.clearLog();
  await buildIn(dir, { env: env() });
  for (const r of await registry.served()) assert.match(r.path, /\/manifests\/docker$/);
});

test('two tags of one repository have their own cache slots (unlike stacker)', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
one:
  from: ${fromRegistry('library/busybox:1.0')}
two:
  from: ${fromRegistry('library/busybox:2.0')}
`,
  });
  await buildIn(dir, { env: env() });
  assert.ok(!existsSync(join(umociUnpack(t, join(dir, 'oci'), 'one'), 'etc/release')));
  const two = umociUnpack(t, join(dir, 'oci'), 'two');
  assert.equal(readFileSync(join(two, 'etc/release'), 'utf8'), 'two\n');

  const bases = await OciLayout.open(join(dir, '.stacker/layer-bases/oci'), { create: false });
  assert.deepEqual(
    bases
      .tags()
      .map((x) => x.name)
      .sort(),
    [
      `${registry.host}/library/busybox:1.0@linux-amd64`,
      `${registry.host}/library/busybox:2.0@linux-amd64`,
    ],
  );
});

test("an image index gives the manifest of the layer's os and arch", async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
arm:
  from: ${fromRegistry('library/multi:1')}
  arch: arm64
amd:
  from: {type: oci, url: "docker://${registry.host}/library/multi:1", insecure: true}
`,
  });
  await buildIn(dir, { env: env() });
  assert.equal(
    readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'amd'), 'platform'), 'utf8'),
    'amd64\n',
  );
  assert.equal(skopeoConfig(join(dir, 'oci'), 'arm').rootfs.diff_ids.length, 2);
  const arm = JSON.parse(
    execFileSync('skopeo', ['inspect', '--config', `oci:${join(dir, 'oci')}:arm`]).toString(),
  ) as { architecture: string; variant?: string };
  assert.equal(arm.architecture, 'arm64');
});

test('no manifest for the platform: the error lists the platforms there are', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
s390:
  from: ${fromRegistry('library/multi:1')}
  arch: s390x
`,
  });
  await assert.rejects(buildIn(dir, { env: env() }), (err: Error) => {
    assert.match(err.message, /no manifest for linux\/s390x/);
    assert.match(err.message, /platforms: linux\/amd64, linux\/arm64\/v8/);
    return true;
  });
});

test('refused credentials: the message says so without showing them', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('library/busybox:1.0')}
`,
  });
  const wrong = writeAuthFile(dir, {
    [registry.host]: { user: USER, password: 'not-the-password' },
  });
  await assert.rejects(buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: wrong }) }), (err: Error) => {
    const text = `${err.message}\n${(err as { hint?: string }).hint}`;
    assert.match(text, /refused the credentials from .*auth-1-\d+\.json \(127\.0\.0\.1:\d+\)/);
    assert.ok(!text.includes('not-the-password'));
    assert.ok(!text.includes(Buffer.from(`${USER}:not-the-password`).toString('base64')));
    return true;
  });

  // An identity token is no use to a registry asking for Basic credentials: said, not shown.
  const tokenOnly = join(dir, 'token-only.json');
  writeFileSync(
    tokenOnly,
    JSON.stringify({ auths: { [registry.host]: { identitytoken: 'refresh-token-0815' } } }),
  );
  await assert.rejects(
    buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: tokenOnly }) }),
    (err: Error) => {
      const text = `${err.message}\n${(err as { hint?: string }).hint}`;
      assert.match(
        text,
        /asks for a user name and password, but .*token-only\.json.* holds only an identity token/,
      );
      assert.match(text, /skopeo login/);
      assert.ok(!text.includes('refresh-token-0815'));
      return true;
    },
  );

  const none = join(dir, 'none.json');
  writeFileSync(none, '{"auths": {}}');
  await assert.rejects(buildIn(dir, { env: env({ REGISTRY_AUTH_FILE: none }) }), (err: Error) => {
    assert.match(err.message, /needs credentials .* none were found/);
    assert.match((err as { hint?: string }).hint ?? '', /skopeo login/);
    return true;
  });
});

test('an unreachable registry: the error names the reference and what was tried', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('team/base:3', '127.0.0.1:9')}
`,
  });
  await assert.rejects(buildIn(dir, { env: env() }), (err: Error) => {
    assert.match(err.message, /couldn't import base layer docker:\/\/127\.0\.0\.1:9\/team\/base:3/);
    assert.match(
      err.message,
      /HEAD https:\/\/127\.0\.0\.1:9\/v2\/team\/base\/manifests\/3: connection refused/,
    );
    assert.match(err.message, /then HEAD http:\/\/127\.0\.0\.1:9\/v2\/team\/base\/manifests\/3/);
    assert.match(err.message, /3 attempts/);
    return true;
  });
});

test('a blob whose bytes do not match its digest is refused and not kept', async (t) => {
  if (!requireRoot(t)) return;
  const layoutDir = await variantLayout('bad', {
    'etc/unique': `${Date.now()} ${Math.random()}\n`,
  });
  await seed({ layout: layoutDir, tag: 'bad', registry, dest: 'library/corrupt:1', authFile });
  const local = await OciLayout.open(layoutDir, { create: false });
  const manifest = await local.readJson<{ layers: { digest: string }[] }>(
    local.resolveTag('bad') as Descriptor,
  );
  const digest = manifest.layers.at(-1)?.digest as string;
  const hex = digest.slice('sha256:'.length);
  const data = join(
    registry.storage,
    'docker/registry/v2/blobs/sha256',
    hex.slice(0, 2),
    hex,
    'data',
  );
  const bytes = readFileSync(data);
  bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
  writeFileSync(data, bytes);

  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('library/corrupt:1')}
`,
  });
  await assert.rejects(buildIn(dir, { env: env() }), (err: Error) => {
    assert.match(err.message, new RegExp(`blob ${digest} of .*corrupt:1 failed verification`));
    assert.match(err.message, /nothing was stored/);
    return true;
  });
  const bases = await OciLayout.open(join(dir, '.stacker/layer-bases/oci'), { create: false });
  assert.equal(bases.hasBlob(digest), false);
  assert.deepEqual(bases.tags(), []);
  const leftovers = readdirSync(join(dir, '.stacker/layer-bases/oci/blobs/sha256')).filter(
    (n) => !/^[a-f0-9]{64}$/.test(n),
  );
  assert.deepEqual(leftovers, [], 'no temp files left');
});

test('offline: the image pulled before is used, with a warning', async (t) => {
  if (!requireRoot(t)) return;
  const own = await startRegistry();
  t.after(() => own.stop());
  await seed({ layout: await busyboxLayout(), tag: 'busybox', registry: own, dest: 'lib/bb:1' });
  const dir = projectDir(t, {
    'stacker.yaml': `
app:
  from: ${fromRegistry('lib/bb:1', own.host)}
  run: touch /x
`,
  });
  await buildIn(dir, { env: env() });
  await own.stop();

  const { summary, log } = await buildIn(dir, { env: env() });
  assert.equal(summary.layers[0]?.status, 'reused');
  assert.match(
    log.text(),
    /warning: couldn't reach registry 127\.0\.0\.1:\d+: .*connection refused/,
  );
  assert.match(
    log.text(),
    /using the image of docker:\/\/127\.0\.0\.1:\d+\/lib\/bb:1 pulled before/,
  );
});
