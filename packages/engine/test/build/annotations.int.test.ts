import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildIn,
  fromBusybox,
  projectDir,
  requireRoot,
  skopeoManifest,
  tagDigest,
} from '../helpers';

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

test("without file annotations a layer's digest depends on its own inputs only", async (t) => {
  if (!requireRoot(t)) return;
  const file = async (sibling: string) => `
base:
${await fromBusybox()}
  run: echo base > /base
sibling:
  from:
    type: built
    tag: base
  run: echo ${sibling} > /sibling
`;
  const dir = projectDir(t, { 'stacker.yaml': await file('one') });
  execFileSync('git', ['init', '-q'], { cwd: dir });
  const { oci } = await buildIn(dir, { fileAnnotations: false });
  const keys = Object.keys(skopeoManifest(oci, 'base').annotations ?? {});
  assert.deepEqual(keys, ['io.stackeroci.stacker.stacker_version']);
  const before = tagDigest(oci, 'base');

  // The sibling changes, then base is rebuilt from scratch: the same bytes.
  writeFileSync(join(dir, 'stacker.yaml'), await file('two'));
  const again = await buildIn(dir, { fileAnnotations: false, noCache: true });
  assert.match(again.log.text(), /base: building \(--no-cache given\)/);
  assert.equal(tagDigest(oci, 'base'), before);

  // With them (the default, as stacker), the same rebuild stamps the new file text.
  await buildIn(dir, { noCache: true });
  assert.notEqual(tagDigest(oci, 'base'), before);
});
