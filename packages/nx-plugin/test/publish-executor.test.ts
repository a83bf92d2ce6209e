/**
 * The publish executor's task, run as Nx runs it but without Nx: the image is written where
 * the build target assembles it (`dist/stacker/<root>/oci`), so no build and no root is
 * needed, and published into an OCI layout or towards a registry that is not there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeBusyboxImage } from '@nx-stacker/engine';
import { createReporter, type Sink } from '../src/executors/build/reporter';
import { redacting } from '../src/executors/publish/executor';
import type { PublishExecutorOptions } from '../src/executors/publish/options';
import { runPublish } from '../src/executors/publish/run-publish';
import { layer, workspace } from './helpers';

const PASSWORD = 'hunter2-but-longer';

/** The image of layers app and web as a build would assemble it, written once. */
const templateDir = mkdtempSync(join(tmpdir(), 'nx-stacker-publish-image-'));
after(() => rmSync(templateDir, { recursive: true, force: true }));
let template: Promise<string> | undefined;
function imageTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = join(templateDir, 'oci');
    await writeBusyboxImage({ ociDir: dir, tag: 'app', sourceDateEpoch: 1 });
    await writeBusyboxImage({ ociDir: dir, tag: 'web', sourceDateEpoch: 2 });
    return dir;
  })();
  return template;
}

/** A workspace whose project `img` has layers app, web and a build_only one, assembled. */
async function assembled(t: Parameters<typeof workspace>[0]): Promise<string> {
  const root = workspace(t, {
    'img/stacker.yaml':
      layer('app', 'type: oci\nurl: ../base/oci:busybox') +
      layer('web', 'type: built\ntag: app') +
      layer('tools', 'type: built\ntag: app', '  build_only: true\n'),
  });
  cpSync(await imageTemplate(), join(root, 'dist/stacker/img/oci'), { recursive: true });
  return root;
}

/** Runs the task; returns whether it succeeded and everything it printed. */
async function run(
  root: string,
  options: Partial<PublishExecutorOptions>,
  env: NodeJS.ProcessEnv = {},
): Promise<{ ok: boolean; output: string }> {
  let output = '';
  const memory: Sink = { out: (s) => (output += s.toString()), err: (s) => (output += s) };
  const secrets = [env.NX_STACKER_PUBLISH_PASSWORD ?? ''].filter(Boolean);
  const reporter = createReporter({
    workspaceRoot: root,
    verbose: false,
    sink: redacting(secrets, memory),
  });
  const ok = await runPublish({
    options: { stackerFile: 'img/stacker.yaml', ...options },
    projectName: 'img',
    workspaceRoot: root,
    env,
    reporter,
    signal: new AbortController().signal,
  });
  return { ok, output };
}

/** The manifest digest of `oci:<dir>:<tag>` as skopeo reads it. */
function skopeoDigest(dir: string, tag: string): string {
  const raw = execFileSync('skopeo', ['inspect', '--raw', `oci:${dir}:${tag}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

test('publishes each layer of the assembled image under every tag', async (t) => {
  const root = await assembled(t);
  const { ok, output } = await run(root, { url: 'oci:out', tags: ['1.0', 'latest'] });
  assert.ok(ok, output);
  const image = join(root, 'dist/stacker/img/oci');
  for (const layerName of ['app', 'web']) {
    for (const tag of ['1.0', 'latest']) {
      assert.equal(
        skopeoDigest(join(root, 'out'), `${layerName}_${tag}`),
        skopeoDigest(image, layerName),
      );
    }
  }
  assert.match(output, /publishing to oci:out \(from option url\)/);
  assert.match(output, /will not publish: .*build_only tools/);
  assert.match(output, /published 4 image\(s\) to oci:out/);
});

test('the url comes from NX_STACKER_PUBLISH_URL when no option gives one', async (t) => {
  const root = await assembled(t);
  const env = { NX_STACKER_PUBLISH_URL: 'oci:from-env' };
  const { ok, output } = await run(root, { tags: ['1'], images: ['web'] }, env);
  assert.ok(ok, output);
  assert.match(output, /from \$NX_STACKER_PUBLISH_URL/);
  assert.equal(
    skopeoDigest(join(root, 'from-env'), 'web_1'),
    skopeoDigest(join(root, 'dist/stacker/img/oci'), 'web'),
  );
});

test('a dry run, as nx release publish --dry-run asks, sends nothing', async (t) => {
  const root = await assembled(t);
  const { ok, output } = await run(root, { url: 'oci:out', tag: '2.0', dryRun: true });
  assert.ok(ok, output);
  assert.match(output, /would publish: img\/stacker.yaml web to oci:out:web_2.0/);
  assert.ok(!existsSync(join(root, 'out')));
});

test('the release version becomes a tag; a project without one is skipped', async (t) => {
  const root = await assembled(t);
  const versioned = await run(root, {
    url: 'oci:out',
    nxReleaseVersionData: { img: { newVersion: '1.2.3+build.5' } },
  });
  assert.ok(versioned.ok, versioned.output);
  execFileSync('skopeo', ['inspect', `oci:${join(root, 'out')}:app_1.2.3_build.5`]);

  const unchanged = await run(root, {
    url: 'oci:elsewhere',
    tags: ['x'],
    nxReleaseVersionData: { img: { newVersion: null } },
  });
  assert.ok(unchanged.ok, unchanged.output);
  assert.match(unchanged.output, /no new version for img; nothing published/);
  assert.ok(!existsSync(join(root, 'elsewhere')));
});

test('without an assembled image the task fails and says to build first', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': layer('app') });
  const { ok, output } = await run(root, { url: 'oci:out', tags: ['1'] });
  assert.equal(ok, false);
  assert.match(output, /error: .*there is no image to publish in dist\/stacker\/img\/oci/);
  assert.match(output, /hint: build it first \(the img project's build target\)/);
});

test('an unreachable registry fails the task naming the url, never the password', async (t) => {
  const root = await assembled(t);
  const env = { NX_STACKER_PUBLISH_USERNAME: 'ci-bot', NX_STACKER_PUBLISH_PASSWORD: PASSWORD };
  // Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
  const { ok, output } = await run(root, { url: 'docker://127.0.0.1:9/team', tags: ['1'] }, env);
  assert.equal(ok, false);
  assert.match(output, /error: .*publishing to docker:\/\/127\.0\.0\.1:9\/team failed: /);
  assert.match(output, /couldn't reach registry 127\.0\.0\.1:9/);
  assert.ok(!output.includes(PASSWORD));
});

test('a password given as an option is refused without being shown', async (t) => {
  const root = await assembled(t);
  const options = {
    url: 'oci:out',
    tags: ['1'],
    password: PASSWORD,
  } as Partial<PublishExecutorOptions>;
  const { ok, output } = await run(root, options);
  assert.equal(ok, false);
  assert.match(output, /takes no password option/);
  assert.ok(!output.includes(PASSWORD));
});

test('output passing through the redacting sink never shows a secret', () => {
  let text = '';
  const sink = redacting([PASSWORD], {
    out: (s) => (text += s.toString()),
    err: (s) => (text += s),
  });
  sink.out(`token ${PASSWORD} in a line\n`);
  sink.err(Buffer.from(`and ${PASSWORD}`).toString());
  assert.equal(text, 'token *** in a line\nand ***');
});
