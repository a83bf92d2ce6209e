import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildIn,
  busyboxLayout,
  requireRoot,
  skopeoManifest,
  tempDir,
  writeFiles,
} from '../helpers';

test('--annotations-namespace names the annotations we add; changing it rebuilds', async (t) => {
  if (!requireRoot(t)) return;
  const dir = tempDir(t);
  writeFiles(dir, {
    'stacker.yaml': `
l:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
  annotations:
    org.example.team: images
`,
  });
  await buildIn(dir, { annotationsNamespace: 'com.example.builds' });

  const annotations = skopeoManifest(join(dir, 'oci'), 'l').annotations ?? {};
  assert.deepEqual(Object.keys(annotations).sort(), [
    'com.example.builds.stacker.stacker_version',
    'com.example.builds.stacker.stacker_yaml',
    'org.example.team',
  ]);
  assert.match(annotations['com.example.builds.stacker.stacker_yaml'] ?? '', /org\.example\.team/);

  const other = await buildIn(dir);
  assert.match(other.log.text(), /l: building \(build settings changed\)/);
  const keys = Object.keys(skopeoManifest(join(dir, 'oci'), 'l').annotations ?? {});
  assert.ok(keys.includes('io.stackeroci.stacker.stacker_yaml'), keys.join(', '));
  assert.ok(!keys.some((k) => k.startsWith('com.example.builds.')), keys.join(', '));
});
