import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIn, fromBusybox, projectDir, requireRoot, skopeoManifest } from '../helpers';

test('--annotations-namespace names the annotations we add; changing it rebuilds', async (t) => {
  if (!requireRoot(t)) return;
  const dir = projectDir(t, {
    'stacker.yaml': `
l:
${await fromBusybox()}
  annotations:
    org.example.team: images
`,
  });
  const { oci } = await buildIn(dir, { annotationsNamespace: 'com.example.builds' });

  const annotations = skopeoManifest(oci, 'l').annotations ?? {};
  assert.deepEqual(Object.keys(annotations).sort(), [
    'com.example.builds.stacker.stacker_version',
    'com.example.builds.stacker.stacker_yaml',
    'org.example.team',
  ]);
  assert.match(annotations['com.example.builds.stacker.stacker_yaml'] ?? '', /org\.example\.team/);

  const other = await buildIn(dir);
  assert.match(other.log.text(), /l: building \(build settings changed\)/);
  const keys = Object.keys(skopeoManifest(oci, 'l').annotations ?? {});
  assert.ok(keys.includes('io.stackeroci.stacker.stacker_yaml'), keys.join(', '));
  assert.ok(!keys.some((k) => k.startsWith('com.example.builds.')), keys.join(', '));
});
