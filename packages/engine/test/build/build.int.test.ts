import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildIn,
  fromBusybox,
  requireRoot,
  skopeoConfig,
  skopeoManifest,
  tagDigest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';

/** A three-layer file: an oci base, a `built` chain, an import with dest and deletions. */
async function threeLayerProject(dir: string): Promise<void> {
  writeFiles(dir, {
    'hello.sh': '#!/bin/sh\necho hello from nx-stacker\n',
    'data/a.txt': 'a\n',
    'data/sub/b.txt': 'b\n',
    'stacker.yaml': `
base:
${await fromBusybox()}
  run: |
    mkdir -p /srv/old /srv/keep
    echo old > /srv/old/file
    echo keep > /srv/keep/file
    echo gone > /etc/gone
app:
  from:
    type: built
    tag: base
  imports:
    - path: hello.sh
      dest: /usr/local/bin/hello
      mode: 0755
    - data
  environment:
    GREETING: hello
    SECOND: two
  labels:
    org.example.name: app
  cmd: /usr/local/bin/hello
  run:
    - rm -rf /srv/old /etc/gone
    - cp -r /stacker/imports/data /srv/data
final:
  from:
    type: built
    tag: app
  run: |
    rm -rf /srv/keep
    mkdir /srv/keep
    echo new > /srv/keep/other
`,
  });
}

test('builds a three-layer file that umoci and skopeo read back', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);

  const { summary } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => [l.name, l.status]),
    [
      ['base', 'built'],
      ['app', 'built'],
      ['final', 'built'],
    ],
  );

  const oci = join(dir, 'oci');
  const app = umociUnpack(t, oci, 'app');
  assert.equal(
    readFileSync(join(app, 'usr/local/bin/hello'), 'utf8'),
    '#!/bin/sh\necho hello from nx-stacker\n',
  );
  assert.equal(statSync(join(app, 'usr/local/bin/hello')).mode & 0o777, 0o755);
  assert.equal(readFileSync(join(app, 'srv/data/sub/b.txt'), 'utf8'), 'b\n');
  assert.equal(readFileSync(join(app, 'srv/keep/file'), 'utf8'), 'keep\n');
  assert.ok(!existsSync(join(app, 'srv/old')), 'deleted directory is gone');
  assert.ok(!existsSync(join(app, 'etc/gone')), 'deleted file is gone');
  assert.ok(!existsSync(join(app, 'stacker')), '/stacker never reaches the image');
  assert.ok(existsSync(join(app, 'bin/busybox')));

  const config = skopeoConfig(oci, 'app');
  assert.deepEqual(config.config?.Cmd, ['/usr/local/bin/hello']);
  assert.deepEqual(
    config.config?.Env?.filter((e) => !e.startsWith('PATH=')),
    ['GREETING=hello', 'SECOND=two'],
  );
  assert.equal(config.config?.Labels?.['org.example.name'], 'app');

  // busybox layer + base's diff + dest import layer + app's diff.
  const manifest = skopeoManifest(oci, 'app');
  assert.equal(manifest.layers.length, 4);
  assert.ok(manifest.annotations?.['io.stackeroci.stacker.stacker_yaml']?.includes('final:'));

  // The opaque directory: /srv/keep was removed and re-created in `final`.
  const final = umociUnpack(t, oci, 'final');
  assert.ok(!existsSync(join(final, 'srv/keep/file')), 'old content hidden by opaque dir');
  assert.equal(readFileSync(join(final, 'srv/keep/other'), 'utf8'), 'new\n');
});

test('a second build reuses every layer and says so', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);
  await buildIn(dir);
  const before = tagDigest(join(dir, 'oci'), 'final');

  const { summary, log } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => l.status),
    ['reused', 'reused', 'reused'],
  );
  for (const name of ['base', 'app', 'final']) {
    assert.match(log.text(), new RegExp(`${name}: reused cached layer`));
  }
  assert.equal(tagDigest(join(dir, 'oci'), 'final'), before);

  // A caller that prints outcomes itself (the Nx executor) gets those lines at debug level.
  const quiet = await buildIn(dir, { reportsOutcomes: true });
  const info = quiet.log.lines.filter((l) => !l.startsWith('debug: '));
  assert.ok(!info.some((l) => /reused cached layer/.test(l)), info.join('\n'));
  assert.match(quiet.log.text(), /debug: final: reused cached layer/);
});

test('changing an imported file rebuilds its layer and the layers built on it only', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);
  await buildIn(dir);

  writeFileSync(join(dir, 'data/a.txt'), 'changed\n');
  const { summary, log } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => [l.name, l.status]),
    [
      ['base', 'reused'],
      ['app', 'built'],
      ['final', 'built'],
    ],
  );
  assert.match(log.text(), /app: building \(import .*data changed\)/);
  assert.match(log.text(), /final: building \(base layer changed\)/);
});

test('changing a dest import rebuilds the layer (unlike stacker)', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);
  await buildIn(dir);

  writeFileSync(join(dir, 'hello.sh'), '#!/bin/sh\necho changed\n');
  const { summary } = await buildIn(dir);
  assert.equal(summary.layers.find((l) => l.name === 'app')?.status, 'built');
  const app = umociUnpack(t, join(dir, 'oci'), 'app');
  assert.equal(readFileSync(join(app, 'usr/local/bin/hello'), 'utf8'), '#!/bin/sh\necho changed\n');
});

test('changing a layer definition rebuilds it and says why; --no-cache rebuilds all', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);
  await buildIn(dir);

  const file = join(dir, 'stacker.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('echo new', 'echo newer'));
  const { summary, log } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => l.status),
    ['reused', 'reused', 'built'],
  );
  assert.match(log.text(), /final: building \(layer definition changed\)/);

  const again = await buildIn(dir, { noCache: true });
  assert.deepEqual(
    again.summary.layers.map((l) => l.status),
    ['built', 'built', 'built'],
  );
  assert.match(again.log.text(), /--no-cache/);
});

test('--no-cache with layers rebuilds just those; what they are built on is reused', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);
  await buildIn(dir);
  const { summary, log } = await buildIn(dir, { noCache: true, layers: ['final'] });
  assert.deepEqual(
    summary.layers.map((l) => [l.name, l.status]),
    [
      ['base', 'reused'],
      ['app', 'reused'],
      ['final', 'built'],
    ],
  );
  assert.match(log.text(), /final: building \(--no-cache given\)/);
});

test('two builds in different directories give identical manifest digests', async (t) => {
  if (!requireRoot(t)) return;
  const one = tempDir(t);
  const two = tempDir(t);
  await threeLayerProject(one);
  await threeLayerProject(two);
  await buildIn(one);
  await buildIn(two);
  for (const tag of ['base', 'app', 'final']) {
    assert.equal(tagDigest(join(one, 'oci'), tag), tagDigest(join(two, 'oci'), tag), tag);
  }
});

test('roots dir holds extracted layers by digest and a metadata file per layer', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  await threeLayerProject(dir);
  await buildIn(dir);
  const manifest = skopeoManifest(join(dir, 'oci'), 'final');
  for (const layer of manifest.layers) {
    const content = join(dir, 'roots', layer.digest.replace(':', '_'), 'overlay');
    assert.ok(lstatSync(content).isDirectory(), `${content} exists`);
  }
  const meta = JSON.parse(readFileSync(join(dir, 'roots/final/overlay_metadata.json'), 'utf8'));
  assert.ok(meta.Manifests['tar+false'].layers.length === manifest.layers.length);
});

test('layer names with a slash build, run, and stay apart from their look-alikes', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': `
app:
${await fromBusybox()}
  run: echo app > /who
app/web:
  from:
    type: built
    tag: app
  run: echo web >> /who
app_web:
  from:
    type: built
    tag: app
  run: echo underscore >> /who
`,
  });
  const { summary } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => [l.name, l.status]),
    [
      ['app', 'built'],
      ['app/web', 'built'],
      ['app_web', 'built'],
    ],
  );
  const who = (tag: string) =>
    readFileSync(join(umociUnpack(t, join(dir, 'oci'), tag), 'who'), 'utf8');
  assert.equal(who('app/web'), 'app\nweb\n');
  assert.equal(who('app_web'), 'app\nunderscore\n');
  const again = await buildIn(dir);
  assert.ok(again.summary.layers.every((l) => l.status === 'reused'));
});

test("neither the builder's umask nor the imports' times reach the image", async (t) => {
  if (!requireRoot(t)) return;
  const project = async (dir: string) =>
    writeFiles(dir, {
      'conf/app.conf': 'x=1\n',
      'tool.sh': '#!/bin/sh\n',
      'stacker.yaml': `
app:
${await fromBusybox()}
  imports:
    - conf
    - path: tool.sh
      dest: /usr/local/bin/tool
  run: |
    cp -a /stacker/imports/conf /etc/conf
    mkdir -p /srv/data && echo made > /srv/data/file
`,
    });
  const usual = tempDir(t);
  await project(usual);
  await buildIn(usual);

  const odd = tempDir(t);
  await project(odd);
  const old = new Date('2001-01-01T00:00:00Z');
  for (const f of ['conf/app.conf', 'conf', 'tool.sh']) utimesSync(join(odd, f), old, old);
  const umask = process.umask(0o077);
  try {
    await buildIn(odd);
  } finally {
    process.umask(umask);
  }
  assert.equal(tagDigest(join(odd, 'oci'), 'app'), tagDigest(join(usual, 'oci'), 'app'));
});
