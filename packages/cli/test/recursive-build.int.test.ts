import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { busyboxLayout, umociUnpack, writeFiles } from '../../engine/test/helpers';
import { cli, rootSkip } from './helpers';

/**
 * Two projects, `web` needing `lib` (listed first in lexical order, so the order is the
 * prerequisites', not the walk's), and a stacker.yaml in the stacker dir that must be ignored.
 */
async function workspace(t: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-rbuild-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFiles(dir, {
    'a-web/stacker.yaml': `
config:
  prerequisites:
    - ../z-lib/stacker.yaml
web:
  from:
    type: built
    tag: lib
  run: echo web >> /built
`,
    'z-lib/stacker.yaml': `
lib:
  from:
    type: oci
    url: ${await busyboxLayout()}:busybox
  run: echo lib >> /built
`,
    'z-lib/docs/image.stacker.yaml': 'other:\n  from:\n    type: scratch\n',
    '.stacker/imports/old/stacker.yaml': 'this is: [not a stacker file\n',
  });
  return dir;
}

describe('nx-stacker recursive-build', () => {
  test('--order-only lists the files found, prerequisites first', async (t) => {
    const dir = await workspace(t);
    const r = cli(['recursive-build', '--order-only'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /1 build z-lib\/stacker\.yaml: requires: \[\]/);
    assert.match(r.stderr, /2 build a-web\/stacker\.yaml: requires: \[z-lib\/stacker\.yaml\]/);
    assert.doesNotMatch(r.stderr, /image\.stacker\.yaml|\.stacker\/imports/);
  });

  test('builds every stacker file found, in one build', { skip: rootSkip() }, async (t) => {
    const dir = await workspace(t);
    const r = cli(['recursive-build'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /lib: building[\s\S]*web: building/);
    assert.match(r.stderr, /done: 2 stacker files, 2 layers built, 0 reused/);
    const rootfs = umociUnpack(t, join(dir, 'oci'), 'web');
    assert.equal(readFileSync(join(rootfs, 'built'), 'utf8'), 'lib\nweb\n');
  });

  test('-p picks other file names and -d another search dir', async (t) => {
    const dir = await workspace(t);
    const r = cli(
      ['recursive-build', '-d', 'z-lib', '-p', '\\.stacker\\.yaml$', '--order-only'],
      dir,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /1 build z-lib\/docs\/image\.stacker\.yaml/);
    assert.match(r.stderr, /layers: other$/m);
    assert.doesNotMatch(r.stderr, /2 build/);
  });

  test('finding no stacker file is a warning, not an error', async (t) => {
    const dir = await workspace(t);
    const r = cli(['recursive-build', '-p', 'nothing-matches$'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: no stacker files match nothing-matches\$ under \./);
    assert.ok(!existsSync(join(dir, 'oci')), 'nothing built');
  });

  test('a pattern that does not compile is an error', async (t) => {
    const dir = await workspace(t);
    const r = cli(['recursive-build', '-p', '(unclosed'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: invalid --stacker-file-pattern \(unclosed/);
  });

  test('-f is not a recursive-build flag', async (t) => {
    const dir = await workspace(t);
    const r = cli(['recursive-build', '-f', 'x.yaml'], dir);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nx-stacker recursive-build \[command options\]/);
  });
});
