import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { skopeoConfig, skopeoManifest } from '../../engine/test/helpers';
import { cli, rootSkip, writeLayeredProject } from './helpers';

describe('nx-stacker inspect', { skip: rootSkip() }, () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-stacker-inspect-'));
    await writeLayeredProject(dir);
    const r = cli(['build'], dir);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("prints tag, layers, annotations and config in stacker's format", () => {
    const r = cli(['inspect', 'app'], dir);
    assert.equal(r.status, 0, r.stderr);
    const manifest = skopeoManifest(join(dir, 'oci'), 'app');
    const lines = r.stdout.split('\n');

    assert.equal(lines[0], 'app');
    manifest.layers.forEach((layer, i) => {
      const hex = layer.digest.slice('sha256:'.length, 'sha256:'.length + 12);
      const head = `\tlayer ${i}: ${hex}... (`;
      const line = lines[i + 1] ?? '';
      assert.ok(line.startsWith(head) && line.endsWith(`, ${layer.mediaType})`), line);
      assert.match(line.slice(head.length, line.lastIndexOf(', ')), /^\d+(\.\d)? [kMG]?B$/, line);
    });
    assert.equal(lines[manifest.layers.length + 1], 'Annotations:');
    assert.match(r.stdout, /^ {2}io\.stackeroci\.stacker\.stacker_version: /m);

    const configAt = lines.indexOf('Image config:');
    assert.ok(configAt > 0, r.stdout);
    const config = JSON.parse(lines.slice(configAt + 1).join('\n'));
    const configDigest = (manifest as unknown as { config: { digest: string } }).config.digest;
    const blob = join(dir, 'oci/blobs/sha256', configDigest.slice('sha256:'.length));
    assert.deepEqual(config, JSON.parse(readFileSync(blob, 'utf8')));
    assert.deepEqual(config.rootfs, skopeoConfig(join(dir, 'oci'), 'app').rootfs);
  });

  test('without a tag, shows every tagged image (build_only layers have no tag)', () => {
    const r = cli(['inspect'], dir);
    assert.equal(r.status, 0, r.stderr);
    const tags = r.stdout.split('\n').filter((l) => /^[a-z]+$/.test(l));
    assert.deepEqual(tags.sort(), ['app', 'base']);
  });

  test('an unknown tag is an error naming the tags there are', () => {
    const r = cli(['inspect', 'nope'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: no tag nope in .*oci/);
    assert.match(r.stderr, /hint: tags: (base, app|app, base)/);
  });

  test('without an OCI dir, says there is none', (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'nx-stacker-inspect-'));
    t.after(() => rmSync(empty, { recursive: true, force: true }));
    const r = cli(['inspect'], empty);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /could not open OCI layout at .*oci/);
  });

  test('more than one tag is a usage error', () => {
    const r = cli(['inspect', 'a', 'b'], dir);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unexpected argument\(s\): b/);
    assert.match(r.stderr, /nx-stacker inspect \[tag\]/);
  });
});
