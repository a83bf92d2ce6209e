import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheTagFor, parseImageReference } from '../../src/registry/reference';

const AMD64 = { os: 'linux', arch: 'amd64' };

test('docker:// references name a registry only when the first part looks like a host', () => {
  assert.deepEqual(parseImageReference('docker://ubuntu:22.04'), {
    registry: 'docker.io',
    endpoint: 'registry-1.docker.io',
    repository: 'library/ubuntu',
    tag: '22.04',
    digest: undefined,
    text: 'docker://docker.io/library/ubuntu:22.04',
  });
  const local = parseImageReference('docker://localhost:5000/team/app');
  assert.equal(local.registry, 'localhost:5000');
  assert.equal(local.repository, 'team/app');
  assert.equal(local.tag, 'latest');
  assert.equal(parseImageReference('docker://quay.io/a/b/c:1').repository, 'a/b/c');
  assert.equal(parseImageReference('docker://someone/tool:2').repository, 'someone/tool');
});

test('a digest reference keeps the digest and gets no default tag', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const ref = parseImageReference(`docker://reg.example:443/app@${digest}`);
  assert.equal(ref.digest, digest);
  assert.equal(ref.tag, undefined);
  assert.equal(ref.text, `docker://reg.example:443/app@${digest}`);
});

test('malformed references are refused with what to write', () => {
  assert.throws(
    () => parseImageReference('docker://reg.example/App:1'),
    /bad image ref: .*not valid/,
  );
  assert.throws(() => parseImageReference('docker://reg.example/app:-x'), /tag '-x' is not valid/);
  assert.throws(() => parseImageReference('docker://reg/app@sha256:12'), /digest/);
  assert.throws(() => parseImageReference('oci:/x:y'), /not a docker:\/\/ url/);
});

test('cache tags tell tags, digests and platforms apart (stacker dropped the tag)', () => {
  const a = cacheTagFor(parseImageReference('docker://ubuntu:20.04'), AMD64);
  const b = cacheTagFor(parseImageReference('docker://ubuntu:22.04'), AMD64);
  const arm = cacheTagFor(parseImageReference('docker://ubuntu:22.04'), {
    os: 'linux',
    arch: 'arm64',
    variant: 'v8',
  });
  assert.equal(a, 'docker.io/library/ubuntu:20.04@linux-amd64');
  assert.notEqual(a, b);
  assert.equal(arm, 'docker.io/library/ubuntu:22.04@linux-arm64-v8');
});

test('a cache tag the image-spec would refuse falls back to a hash', () => {
  const tag = cacheTagFor(parseImageReference('docker://reg.example/app:v1-'), AMD64);
  assert.match(tag, /^reg\.example\/sha256-[0-9a-f]{64}$/);
});
