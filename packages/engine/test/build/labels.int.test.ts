import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildIn,
  errorOf,
  fromBusybox,
  projectDir,
  requireRoot,
  skopeoConfig,
  tagDigest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../helpers';

test('generate_labels: each file the script leaves is a label; user labels win', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
l:
${await fromBusybox()}
  build_env:
    ONLY_FOR_RUN: set
  run: echo 1.2.3 > /etc/app-version
  generate_labels: |
    cd /stacker/oci-labels
    printf %s "$(cat /etc/app-version)" > org.example.version
    echo multi > org.example.raw
    printf %s "\${ONLY_FOR_RUN:-unset}" > org.example.env
    printf generated > org.example.overridden
    touch /discarded
  labels:
    org.example.overridden: by-user
`,
  });
  const { oci } = await buildIn(dir);

  assert.deepEqual(skopeoConfig(oci, 'l').config?.Labels, {
    'org.example.env': 'unset',
    'org.example.overridden': 'by-user',
    'org.example.raw': 'multi\n',
    'org.example.version': '1.2.3',
  });
  const rootfs = umociUnpack(t, oci, 'l');
  assert.ok(existsSync(join(rootfs, 'etc/app-version')));
  assert.ok(!existsSync(join(rootfs, 'discarded')), 'the script changes nothing in the image');
  assert.ok(!existsSync(join(rootfs, 'stacker')));
  const leftovers = [...readdirSync(join(dir, 'roots')), ...readdirSync(join(dir, '.stacker'))];
  assert.deepEqual(
    leftovers.filter((n) => /^(temp-snapshot-|oci-labels-)/.test(n)),
    [],
    'no snapshot or labels dir is left behind',
  );
});

test('generate_labels of an import: layer writes to /.stacker/oci-labels', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'legacy.txt': 'legacy\n',
    'stacker.yaml': `
old:
${await fromBusybox()}
  import:
    - legacy.txt
  run: cp /stacker/legacy.txt /.stacker/imports/legacy.txt /tmp/ && cp /stacker/legacy.txt /
  generate_labels: printf %s "$(cat /legacy.txt)" > /.stacker/oci-labels/from-import
`,
  });
  await buildIn(dir);
  assert.deepEqual(skopeoConfig(join(dir, 'oci'), 'old').config?.Labels, {
    'from-import': 'legacy',
  });
});

test('a failing generate_labels fails the build, located at the directive', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  const from = await fromBusybox();
  const write = (script: string) =>
    writeFiles(dir, {
      'stacker.yaml': `
l:
${from}
  run: touch /built
  generate_labels: ${script}
`,
    });
  write('echo ok > /stacker/oci-labels/state');
  await buildIn(dir);
  const before = tagDigest(join(dir, 'oci'), 'l');

  write('exit 3');
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /generate_labels failed for image "l": exit status 3/);
  assert.deepEqual(
    [err.where.file, err.where.line, err.where.layer, err.where.directive],
    [join(dir, 'stacker.yaml'), 7, 'l', 'generate_labels'],
  );
  assert.equal(tagDigest(join(dir, 'oci'), 'l'), before, 'the previous image keeps its tag');
});

test('a label file that is a symlink is refused, not followed on the host', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
l:
${await fromBusybox()}
  generate_labels: ln -s /etc/hostname /stacker/oci-labels/host
`,
  });
  const err = await errorOf(buildIn(dir));
  assert.match(err.message, /left host in oci-labels, which is not a regular file/);
  assert.equal(err.where.directive, 'generate_labels');
});
