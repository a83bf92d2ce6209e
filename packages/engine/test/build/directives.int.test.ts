import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildIn,
  errorOf,
  fromBusybox,
  projectDir,
  requireRoot,
  skopeoConfig,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';

test("a run step sees stacker's container: hostname, env, imports read-only, binds", async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  writeFiles(dir, {
    'input.txt': 'imported\n',
    'stacker.yaml': `
probe:
${await fromBusybox()}
  imports:
    - input.txt
  build_env:
    FROM_BUILD_ENV: yes-it-is
  build_env_passthrough:
    - PASSED_.*
  binds:
    - ${shared} -> /mnt/shared
  run: |
    hostname > /mnt/shared/hostname
    echo "$STACKER_LAYER_NAME $FROM_BUILD_ENV $PASSED_THROUGH \${HIDDEN:-unset}" > /mnt/shared/env
    cat /stacker/imports/input.txt > /mnt/shared/import
    if touch /stacker/imports/new 2>/dev/null; then echo rw; else echo ro; fi \
      > /mnt/shared/imports-mode
    pwd > /mnt/shared/cwd
`,
  });
  const { summary } = await buildIn(dir, {
    env: { SOURCE_DATE_EPOCH: '1700000000', PASSED_THROUGH: 'passed', HIDDEN: 'secret' },
  });
  assert.equal(summary.layers[0]?.status, 'built');
  const read = (f: string) => readFileSync(join(shared, f), 'utf8').trim();
  assert.equal(read('hostname'), 'stacker');
  assert.equal(read('env'), 'probe yes-it-is passed unset');
  assert.equal(read('import'), 'imported');
  assert.equal(read('imports-mode'), 'ro');
  assert.equal(read('cwd'), '/');
});

test('a layer with binds is rebuilt every time, as in stacker', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  mkdirSync(join(dir, 'b'));
  writeFiles(dir, {
    'stacker.yaml': `
l:
${await fromBusybox()}
  binds:
    - ${join(dir, 'b')}
  run: cp ${join(dir, 'b')}/value /value || true
`,
  });
  await buildIn(dir);
  const { summary, log } = await buildIn(dir);
  assert.equal(summary.layers[0]?.status, 'built');
  assert.match(log.text(), /layer has binds/);
});

test('a layer whose binds are hashed is reused until the bound content changes; it cannot write there', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'src/value': 'one\n',
    'stacker.yaml': `
l:
${await fromBusybox()}
  binds:
    - source: src
      dest: /src
      hash: true
  run: |
    cp /src/value /copied
    if touch /src/new 2>/dev/null; then echo rw > /mode; else echo ro > /mode; fi
`,
  });
  await buildIn(dir);
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'l');
  assert.equal(readFileSync(join(rootfs, 'copied'), 'utf8'), 'one\n');
  assert.equal(readFileSync(join(rootfs, 'mode'), 'utf8'), 'ro\n');
  assert.equal(existsSync(join(dir, 'src/new')), false);

  const again = await buildIn(dir);
  assert.equal(again.summary.layers[0]?.status, 'reused');

  writeFileSync(join(dir, 'src/value'), 'two\n');
  const changed = await buildIn(dir);
  assert.equal(changed.summary.layers[0]?.status, 'built');
  assert.match(changed.log.text(), new RegExp(`content of bind ${join(dir, 'src')} changed`));
  assert.equal(
    readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'l'), 'copied'), 'utf8'),
    'two\n',
  );

  // A hashed bind is read when the key is computed: a missing one is reported at its line.
  rmSync(join(dir, 'src'), { recursive: true });
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /bind mount source ".*\/src" does not exist/);
  const lines = readFileSync(join(dir, 'stacker.yaml'), 'utf8').split('\n');
  assert.equal(err.where.line, lines.indexOf('    - source: src') + 1);
  assert.equal(err.where.directive, 'binds');
});

test("a hashed bind of the project's own dir leaves out the build's storage dirs", async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'conf/app.conf': 'a=1\n',
    'stacker.yaml': `
l:
${await fromBusybox()}
  binds:
    - {source: ., dest: /src, hash: true}
  run: cp /src/conf/app.conf /app.conf
`,
  });
  await buildIn(dir);
  // The first build wrote .stacker, roots and oci under the bound dir: none of that counts.
  assert.equal((await buildIn(dir)).summary.layers[0]?.status, 'reused');
  writeFileSync(join(dir, 'conf/app.conf'), 'a=2\n');
  assert.equal((await buildIn(dir)).summary.layers[0]?.status, 'built');
});

test("tar and scratch bases: tar content becomes the layer's own diff", async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const content = join(dir, 'content');
  writeFiles(content, { 'etc/from-tar': 'tar content\n', 'bin/.keep': '' });
  execFileSync('tar', ['-czf', join(dir, 'rootfs.tar.gz'), '-C', content, '.']);
  writeFiles(dir, {
    'stacker.yaml': `
from-tar:
  from:
    type: tar
    url: rootfs.tar.gz
empty:
  from:
    type: scratch
  labels:
    kind: empty
`,
  });
  const { summary } = await buildIn(dir);
  assert.deepEqual(
    summary.layers.map((l) => l.status),
    ['built', 'built'],
  );
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'from-tar');
  assert.equal(readFileSync(join(rootfs, 'etc/from-tar'), 'utf8'), 'tar content\n');
  assert.equal(skopeoConfig(join(dir, 'oci'), 'from-tar').rootfs.diff_ids.length, 1);
  assert.equal(skopeoConfig(join(dir, 'oci'), 'empty').rootfs.diff_ids.length, 0);
  assert.equal(skopeoConfig(join(dir, 'oci'), 'empty').config?.Labels?.kind, 'empty');

  // A changed tarball is a changed base.
  writeFileSync(join(content, 'etc/from-tar'), 'changed\n');
  execFileSync('tar', ['-czf', join(dir, 'rootfs.tar.gz'), '-C', content, '.']);
  const again = await buildIn(dir);
  assert.match(again.log.text(), /from-tar: building \(base layer changed\)/);
  assert.match(again.log.text(), /empty: reused/);
});

test('tar bases compressed with zstd, xz or bzip2 give the image a gzip one gives', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const content = join(dir, 'content');
  writeFiles(content, { 'etc/from-tar': 'tar content\n', 'bin/.keep': '' });
  const tarball = join(dir, 'rootfs.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@1600000000', '-cf', tarball, '-C', content, '.']);
  const compressors = { gz: 'gzip', zst: 'zstd', xz: 'xz', bz2: 'bzip2' };
  let yaml = '';
  for (const [ext, program] of Object.entries(compressors)) {
    execFileSync(program, ['-q', '-k', '-c', tarball], {
      stdio: ['ignore', openSync(`${tarball}.${ext}`, 'w'), 'inherit'],
    });
    yaml += `${ext}:\n  from:\n    type: tar\n    url: rootfs.tar.${ext}\n`;
  }
  writeFiles(dir, { 'stacker.yaml': yaml });
  await buildIn(dir);
  const oci = join(dir, 'oci');
  const layers = Object.keys(compressors).map((tag) => skopeoConfig(oci, tag).rootfs.diff_ids);
  for (const ids of layers) assert.deepEqual(ids, layers[0]);
  const rootfs = umociUnpack(t, oci, 'xz');
  assert.equal(readFileSync(join(rootfs, 'etc/from-tar'), 'utf8'), 'tar content\n');
});

test('the deprecated import: puts files under /stacker and warns', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'legacy.txt': 'legacy\n',
    'stacker.yaml': `
old:
${await fromBusybox()}
  import:
    - legacy.txt
  run: cp /stacker/legacy.txt /copied
`,
  });
  const { log } = await buildIn(dir);
  assert.match(log.text(), /warning: .*import/);
  const rootfs = umociUnpack(t, join(dir, 'oci'), 'old');
  assert.equal(readFileSync(join(rootfs, 'copied'), 'utf8'), 'legacy\n');
  assert.ok(!existsSync(join(rootfs, 'stacker')));
  assert.ok(!existsSync(join(rootfs, '.stacker')));
});

test('image directives reach the config: entrypoint, full_command, volumes, ...', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
svc:
${await fromBusybox()}
  entrypoint: /bin/sh -c
  cmd: "'echo hi'"
  volumes:
    - /data
  runtime_user: "1000"
  working_dir: /srv
  annotations:
    org.example.team: images
full:
  from:
    type: built
    tag: svc
  full_command: /bin/echo full
`,
  });
  const { oci } = await buildIn(dir);
  const svc = JSON.parse(
    execFileSync('skopeo', ['inspect', '--config', `oci:${oci}:svc`]).toString(),
  );
  assert.deepEqual(svc.config.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(svc.config.Cmd, ['echo hi']);
  assert.deepEqual(Object.keys(svc.config.Volumes), ['/data']);
  assert.equal(svc.config.User, '1000');
  assert.equal(svc.config.WorkingDir, '/srv');
  assert.equal(svc.author, 'stacker');
  assert.equal(svc.created, '2023-11-14T22:13:20Z');

  const full = skopeoConfig(oci, 'full');
  assert.deepEqual(full.config?.Entrypoint, ['/bin/echo', 'full']);
  assert.equal(full.config?.Cmd, undefined);
  const manifest = JSON.parse(
    execFileSync('skopeo', ['inspect', '--raw', `oci:${oci}:svc`]).toString(),
  );
  assert.equal(manifest.annotations['org.example.team'], 'images');
  assert.match(manifest.annotations['io.stackeroci.stacker.stacker_version'], /nx-stacker/);
});
