import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges } from '../../src/registry/challenge';
import { selectPlatform } from '../../src/registry/manifest';
import { Secrets } from '../../src/registry/secrets';

test('Bearer challenges give realm, service and scope', () => {
  const [c] = parseChallenges(
    'Bearer realm="https://auth.example/token",service="registry.example",' +
      'scope="repository:team/app:pull,push"',
  );
  assert.equal(c?.scheme, 'bearer');
  assert.deepEqual(c?.params, {
    realm: 'https://auth.example/token',
    service: 'registry.example',
    scope: 'repository:team/app:pull,push',
  });
});

test('Basic challenges, bare values, escapes and several challenges in one header', () => {
  const list = parseChallenges(['Basic realm="a \\"quoted\\" realm"', 'Bearer realm=https://x/t']);
  assert.deepEqual(
    list.map((c) => [c.scheme, c.params.realm]),
    [
      ['basic', 'a "quoted" realm'],
      ['bearer', 'https://x/t'],
    ],
  );
  assert.deepEqual(parseChallenges(undefined), []);
});

test('an index gives the manifest for the platform, or lists the platforms it has', () => {
  const d = (architecture: string, variant?: string) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${architecture.padEnd(64, '0').slice(0, 64)}`,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  // Build attestations ride along as manifests of the platform unknown/unknown.
  const attestation = { ...d('unknown'), platform: { os: 'unknown', architecture: 'unknown' } };
  const index = {
    schemaVersion: 2 as const,
    manifests: [d('amd64'), d('arm64', 'v8'), d('arm', 'v7'), attestation],
  };
  assert.equal(selectPlatform(index, { os: 'linux', arch: 'arm64' }, 'x').platform?.variant, 'v8');
  assert.equal(
    selectPlatform(index, { os: 'linux', arch: 'arm', variant: 'v7' }, 'x'),
    index.manifests[2],
  );
  assert.throws(
    () => selectPlatform(index, { os: 'linux', arch: 'ppc64le' }, 'docker://r/x:1'),
    new RegExp(
      'no manifest for linux/ppc64le in docker://r/x:1 ' +
        String.raw`\(platforms: linux/amd64, linux/arm64/v8, linux/arm/v7\)$`,
    ),
  );
});

test('secrets are masked wherever they appear, in any known form', () => {
  const s = new Secrets();
  s.addCredentials({ username: 'me', password: 'hunter22' });
  s.add('tok');
  const basic = Buffer.from('me:hunter22').toString('base64');
  assert.equal(s.scrub(`pw hunter22, basic ${basic}, tok`), 'pw ***, basic ***, tok');
});
