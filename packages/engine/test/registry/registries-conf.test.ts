import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { StackerError } from '../../src/errors';
import { parseImageReference } from '../../src/registry/reference';
import { pullSources, pushSettings, registriesConfFiles } from '../../src/registry/registries-conf';

/** An env whose registries.conf is `conf` (and whose drop-in dir holds `dropIns`). */
function confEnv(t: TestContext, conf: string, dropIns: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-regconf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'registries.conf'), conf);
  mkdirSync(join(dir, 'conf.d'));
  for (const [name, text] of Object.entries(dropIns))
    writeFileSync(join(dir, 'conf.d', name), text);
  return {
    HOME: dir,
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    CONTAINERS_REGISTRIES_CONF_DIR: join(dir, 'conf.d'),
  };
}

/** Where pullSources sends `url`: `<registry>/<repository> (insecure)` per source. */
function sources(url: string, env: NodeJS.ProcessEnv, insecure = false): string[] {
  return pullSources(parseImageReference(url), insecure, env).map(
    (s) => `${s.reference.registry}/${s.reference.repository}${s.insecure ? ' (insecure)' : ''}`,
  );
}

const CONF = `
unqualified-search-registries = ["docker.io"]

[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "mirror.corp:5000/hub"
insecure = true
[[registry.mirror]]
location = "pinned.corp/hub"
pull-from-mirror = "digest-only"

[[registry]]
prefix = "docker.io/team"
location = "team.corp/images"

[[registry]]
prefix = "*.internal.corp"
insecure = true
[[registry.mirror]]
location = "cache.corp/internal"
`;

test('mirrors come first, in order, with the rest of the name appended; the registry last', (t) => {
  const env = confEnv(t, CONF);
  assert.deepEqual(sources('docker://alpine:3.20', env), [
    'mirror.corp:5000/hub/library/alpine (insecure)',
    'docker.io/library/alpine',
  ]);
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(sources(`docker://alpine@${digest}`, env), [
    'mirror.corp:5000/hub/library/alpine (insecure)',
    'pinned.corp/hub/library/alpine',
    'docker.io/library/alpine',
  ]);
  const source = pullSources(parseImageReference('docker://alpine:3.20'), false, env)[0];
  assert.equal(source?.reference.endpoint, 'mirror.corp:5000');
  assert.equal(source?.reference.text, 'docker://docker.io/library/alpine:3.20');
});

test('the longest prefix wins and its location replaces it; wildcards match subdomains', (t) => {
  const env = confEnv(t, CONF);
  assert.deepEqual(sources('docker://docker.io/team/app:1', env), ['team.corp/images/app']);
  assert.deepEqual(sources('docker://reg.internal.corp/team/app:1', env), [
    'cache.corp/internal/team/app',
    'reg.internal.corp/team/app (insecure)',
  ]);
  assert.deepEqual(sources('docker://quay.io/app:1', env), ['quay.io/app']);
  assert.deepEqual(sources('docker://quay.io/app:1', env, true), ['quay.io/app (insecure)']);
});

test('a drop-in replaces the entry with the same prefix; a blocked registry is refused', (t) => {
  const env = confEnv(t, CONF, {
    '50-block.conf': '[[registry]]\nprefix = "docker.io/team"\nblocked = true\n',
  });
  assert.deepEqual(registriesConfFiles(env).slice(1), [join(env.HOME, 'conf.d/50-block.conf')]);
  assert.throws(
    () => sources('docker://docker.io/team/app:1', env),
    (err: StackerError) =>
      /registry docker\.io\/team is blocked in .*50-block\.conf, so .* cannot be pulled/.test(
        err.message,
      ) && /blocked = true/.test(err.hint ?? ''),
  );
});

test('a broken registries.conf is named with what is wrong', (t) => {
  const broken = confEnv(t, '[[registry]\nlocation = "x"\n');
  assert.throws(
    () => sources('docker://quay.io/app:1', broken),
    (err: StackerError) =>
      err.message.startsWith(`registries config ${broken.CONTAINERS_REGISTRIES_CONF}:`) &&
      /containers-registries\.conf\(5\)/.test(err.hint ?? ''),
  );
  const wrongType = confEnv(t, '[[registry]]\nlocation = "x.io"\ninsecure = "yes"\n');
  assert.throws(
    () => sources('docker://x.io/app:1', wrongType),
    /\[\[registry\]\] #1: insecure must be true or false/,
  );
});

test('without the variables, the user file is preferred to the system one', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'nx-stacker-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  assert.equal(registriesConfFiles({ HOME: home })[0], '/etc/containers/registries.conf');
  mkdirSync(join(home, '.config/containers'), { recursive: true });
  writeFileSync(join(home, '.config/containers/registries.conf'), '');
  assert.equal(
    registriesConfFiles({ HOME: home })[0],
    join(home, '.config/containers/registries.conf'),
  );
});

test('pushes take insecure and blocked from the entry, never a mirror or location', (t) => {
  const env = confEnv(t, CONF, {
    '50-block.conf': '[[registry]]\nprefix = "docker.io/team"\nblocked = true\n',
  });
  assert.deepEqual(pushSettings(parseImageReference('docker://reg.internal.corp/a:1'), env), {
    insecure: true,
  });
  assert.deepEqual(pushSettings(parseImageReference('docker://alpine:1'), env), {
    insecure: false,
  });
  assert.throws(
    () => pushSettings(parseImageReference('docker://docker.io/team/app:1'), env),
    /cannot be pushed/,
  );
});
