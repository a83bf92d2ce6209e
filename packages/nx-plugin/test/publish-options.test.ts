import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type PublishExecutorOptions,
  type ResolvedPublish,
  resolvePublish,
} from '../src/executors/publish/options';

const FILE = 'img/stacker.yaml';

/** resolvePublish for project `img`; fails the test when the task would be skipped. */
function resolve(
  options: Partial<PublishExecutorOptions>,
  env: NodeJS.ProcessEnv = {},
): ResolvedPublish {
  const out = resolvePublish({ stackerFile: FILE, ...options }, { env, projectName: 'img' });
  if ('skip' in out) throw new Error(`skipped: ${out.skip}`);
  return out;
}

/** The message and hint of what resolvePublish throws. */
function failure(options: Partial<PublishExecutorOptions>, env: NodeJS.ProcessEnv = {}): string {
  try {
    resolve(options, env);
  } catch (err) {
    const e = err as Error & { hint?: string };
    return `${e.message}\nhint: ${e.hint}`;
  }
  throw new Error('resolvePublish did not throw');
}

const ENV_URL = { NX_STACKER_PUBLISH_URL: 'docker://env.example/team' };

test('the url is --registry, else the url option, else NX_STACKER_PUBLISH_URL', () => {
  const tags = ['1'];
  assert.equal(resolve({ tags }, ENV_URL).url, 'docker://env.example/team');
  assert.equal(resolve({ tags, url: 'docker://opt.example' }, ENV_URL).url, 'docker://opt.example');
  const release = resolve({ tags, url: 'docker://opt.example', registry: 'r.example:5000/ns' });
  assert.equal(release.url, 'docker://r.example:5000/ns', '--registry gets docker:// added');
  assert.equal(release.urlFrom, '--registry');
  assert.equal(resolve({ tags, registry: 'oci:out' }).url, 'oci:out');
});

test('without any url the error names the option and the variable to set', () => {
  const message = failure({ tags: ['1'] });
  assert.match(message, /no url to publish the images of img\/stacker\.yaml to/);
  assert.match(message, /hint: set url .* pass --url, or set NX_STACKER_PUBLISH_URL/);
});

test('tags are the tags option, then --tag, then the release version, once each', () => {
  const resolved = resolve(
    {
      tags: ['latest', '1.2.3'],
      tag: 2 as unknown as string,
      nxReleaseVersionData: { img: { newVersion: '1.2.3' }, other: { newVersion: '9.9.9' } },
    },
    ENV_URL,
  );
  assert.deepEqual(resolved.tags, ['latest', '1.2.3', '2']);
});

test('tags are read as typed on the command line, which Nx parses as numbers', () => {
  // `nx run img:publish --tag=2.10 --tags=1.0` reaches the executor like this.
  const options = {
    tag: 2.1,
    tags: 1,
    __unparsed__: ['--tag=2.10', '--tags', '1.0'],
  } as unknown as Partial<PublishExecutorOptions>;
  assert.deepEqual(resolve(options, ENV_URL).tags, ['1.0', '2.10']);
  assert.deepEqual(resolve({ tags: 'a,b' as unknown as string[] }, ENV_URL).tags, ['a', 'b']);
});

test("a version's build metadata, not allowed in a tag, is joined with _", () => {
  const data = { img: { newVersion: '2.0.0-rc.1+sha.5114f85' } };
  assert.deepEqual(resolve({ nxReleaseVersionData: data }, ENV_URL).tags, [
    '2.0.0-rc.1_sha.5114f85',
  ]);
});

test('without any tag the error says where tags come from', () => {
  assert.match(failure({}, ENV_URL), /no tag to publish .*\nhint: set tags .*run nx release/s);
});

test('a project nx release resolved no new version for is skipped', () => {
  const out = resolvePublish(
    { stackerFile: FILE, nxReleaseVersionData: { img: { newVersion: null } } },
    { env: {}, projectName: 'img' },
  );
  assert.deepEqual(out, {
    skip: 'nx release resolved no new version for img; nothing published',
  });
});

test('credentials come from NX_STACKER_PUBLISH_USERNAME and _PASSWORD by default', () => {
  const env = {
    ...ENV_URL,
    NX_STACKER_PUBLISH_USERNAME: 'bot',
    NX_STACKER_PUBLISH_PASSWORD: 's3cret-value',
  };
  const resolved = resolve({ tags: ['1'] }, env);
  assert.equal(resolved.username, 'bot');
  assert.equal(resolved.password, 's3cret-value');
});

test('usernameEnv and passwordEnv name other variables; username may be an option', () => {
  const env = { ...ENV_URL, CI_USER: 'ci', CI_TOKEN: 'token-value' };
  const named = resolve({ tags: ['1'], usernameEnv: 'CI_USER', passwordEnv: 'CI_TOKEN' }, env);
  assert.deepEqual([named.username, named.password], ['ci', 'token-value']);
  const option = resolve({ tags: ['1'], username: 'me', passwordEnv: 'CI_TOKEN' }, env);
  assert.deepEqual([option.username, option.password], ['me', 'token-value']);
});

test('no credentials at all leaves them to the auth files', () => {
  const resolved = resolve({ tags: ['1'] }, ENV_URL);
  assert.equal(resolved.username, undefined);
  assert.equal(resolved.password, undefined);
});

test('a user name without a password fails, naming the variable but no value', () => {
  const message = failure({ tags: ['1'], username: 'someone' }, ENV_URL);
  assert.match(message, /only a user name \(option username\) is set for the registry/);
  assert.match(message, /set NX_STACKER_PUBLISH_PASSWORD to the password/);
  assert.ok(!message.includes('someone'));
});

test('a password without a user name fails without showing the password', () => {
  const env = { ...ENV_URL, NX_STACKER_PUBLISH_PASSWORD: 'pw-that-stays-hidden' };
  const message = failure({ tags: ['1'] }, env);
  assert.match(message, /only a password \(\$NX_STACKER_PUBLISH_PASSWORD\) is set/);
  assert.ok(!message.includes('pw-that-stays-hidden'));
});

test('a password option is refused without showing it', () => {
  const options = { tags: ['1'], password: 'pw-in-options' } as Partial<PublishExecutorOptions>;
  const message = failure(options, ENV_URL);
  assert.match(message, /takes no password option/);
  assert.match(message, /passwordEnv \(default NX_STACKER_PUBLISH_PASSWORD\)/);
  assert.ok(!message.includes('pw-in-options'));
});

test('--dry-run and NX_DRY_RUN, as nx release sets them, mean show only', () => {
  assert.equal(resolve({ tags: ['1'] }, ENV_URL).showOnly, false);
  assert.equal(resolve({ tags: ['1'], dryRun: true }, ENV_URL).showOnly, true);
  assert.equal(resolve({ tags: ['1'] }, { ...ENV_URL, NX_DRY_RUN: 'true' }).showOnly, true);
  assert.equal(resolve({ tags: ['1'], showOnly: true }, ENV_URL).showOnly, true);
});

test("unknown options are reported, npm's release options and Nx's internals ignored", () => {
  const options = {
    tags: ['1'],
    otp: '123456',
    access: 'public',
    firstRelease: true,
    __unparsed__: ['--tagz=x'],
    tagz: 'x',
  } as Partial<PublishExecutorOptions>;
  assert.deepEqual(resolve(options, ENV_URL).unknown, ['tagz']);
});
