import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashedConfig, inferWithWarnings, layer, nodes, target, workspace } from './helpers';

const image = layer('base') + layer('app', 'type: built\ntag: base');

test('every stacker project can be published with nx run and nx release publish', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': image });
  const projects = await nodes(root, ['img/stacker.yaml']);
  for (const name of ['publish', 'nx-release-publish']) {
    const publish = target(projects, 'img', name);
    assert.equal(publish.executor, 'nx-stacker:publish');
    assert.deepEqual(publish.options, { stackerFile: 'img/stacker.yaml' });
    assert.deepEqual(publish.dependsOn, ['build'], `${name} publishes what the build assembled`);
    assert.equal(publish.cache, false, `${name} is never restored from a cache`);
  }
});

test("the plugin's publish options reach both targets' options", async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': image });
  const publish = {
    url: 'docker://registry.example.com/team',
    tags: ['latest'],
    skipTls: true,
    passwordEnv: 'REGISTRY_TOKEN',
  };
  const projects = await nodes(root, ['img/stacker.yaml'], {
    publish,
    substitutions: { V: '1' },
  });
  for (const name of ['publish', 'nx-release-publish']) {
    assert.deepEqual(target(projects, 'img', name).options, {
      stackerFile: 'img/stacker.yaml',
      substitute: ['V=1'],
      ...publish,
    });
  }
  assert.match(
    target(projects, 'img', 'publish').metadata?.description ?? '',
    /images of img\/stacker\.yaml \(layers: base, app\) to docker:\/\/registry\.example\.com\/team/,
  );
});

test('without a url in the plugin options the target says it reads the variable', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': image });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.match(
    target(projects, 'img', 'nx-release-publish').metadata?.description ?? '',
    /^Run by `nx release publish`: .* to \$NX_STACKER_PUBLISH_URL$/,
  );
});

test('the publish target is renamed, and follows a renamed build target', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': image });
  const projects = await nodes(root, ['img/stacker.yaml'], {
    publishTargetName: 'push',
    buildTargetName: 'image',
  });
  assert.equal(projects.img?.targets?.publish, undefined);
  assert.deepEqual(target(projects, 'img', 'push').dependsOn, ['image']);
  assert.deepEqual(target(projects, 'img', 'nx-release-publish').dependsOn, ['image']);
});

test('publish.release false leaves nx release publish to other plugins', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': image });
  const projects = await nodes(root, ['img/stacker.yaml'], { publish: { release: false } });
  assert.ok(projects.img?.targets?.publish);
  assert.equal(projects.img?.targets?.['nx-release-publish'], undefined);
  assert.equal('release' in (target(projects, 'img', 'publish').options ?? {}), false);
});

test('a layer named like a publish target gets a layer- target instead', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('publish') + layer('nx-release-publish'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.equal(target(projects, 'img', 'layer-publish').options.layer, 'publish');
  assert.equal(
    target(projects, 'img', 'layer-nx-release-publish').options.layer,
    'nx-release-publish',
  );
  assert.equal(target(projects, 'img', 'publish').executor, 'nx-stacker:publish');

  // With the publish target renamed, a layer may have the name again.
  const renamed = await nodes(root, ['img/stacker.yaml'], { publishTargetName: 'push' });
  assert.equal(target(renamed, 'img', 'publish').executor, 'nx-stacker:build');
  assert.equal(target(renamed, 'img', 'push').executor, 'nx-stacker:publish');
});

test('a build_only layer is not listed among the layers a publish sends', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('tools', 'type: scratch', '  build_only: true\n') + layer('app'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.match(target(projects, 'img', 'publish').metadata?.description ?? '', /\(layers: app\)/);
});

test('a file that does not parse gets no publish target', (t) => {
  const root = workspace(t, { 'bad/stacker.yaml': 'bad:\n  from:\n    type: scratch\n  rnu: x\n' });
  const { projects } = inferWithWarnings(root, ['bad/stacker.yaml']);
  assert.deepEqual(Object.keys(projects.bad?.targets ?? {}), ['build']);
});

test('editing a layer keeps the publish targets, hashed into every task, the same', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': image });
  const options = { publish: { url: 'docker://r.example/x', tags: ['1'] } };
  const before = await nodes(root, ['img/stacker.yaml'], options);
  const edited = workspace(t, { 'img/stacker.yaml': image.replace('echo app', 'echo other') });
  const after = await nodes(edited, ['img/stacker.yaml'], options);
  assert.deepEqual(hashedConfig(after.img!), hashedConfig(before.img!));
});
