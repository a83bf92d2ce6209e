import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  definitionInput,
  hashedConfig,
  inferWithWarnings,
  layer,
  nodes,
  target,
  workspace,
  writeFiles,
} from './helpers';

const chain = layer('base') + layer('app', 'type: built\ntag: base') + layer('tool');

test('each stacker.yaml becomes a project rooted at its directory', async (t) => {
  const root = workspace(t, {
    'images/web/stacker.yaml': layer('web'),
    'images/db/stacker.yaml': layer('db'),
  });
  const projects = await nodes(root, ['images/web/stacker.yaml', 'images/db/stacker.yaml']);
  assert.deepEqual(Object.keys(projects).sort(), ['images/db', 'images/web']);
  assert.deepEqual(projects['images/web']?.metadata?.technologies, ['stacker']);
});

test('a project is named from project.json, else package.json, else its path', async (t) => {
  const root = workspace(t, {
    'a/stacker.yaml': layer('a'),
    'a/project.json': '{"name":"alpha"}',
    'b/stacker.yaml': layer('b'),
    'b/package.json': '{"name":"@img/beta"}',
    'images/c/stacker.yaml': layer('c'),
  });
  const projects = await nodes(root, ['a/stacker.yaml', 'b/stacker.yaml', 'images/c/stacker.yaml']);
  assert.equal(projects.a?.name, 'alpha');
  assert.equal(projects.b?.name, '@img/beta');
  assert.equal(projects['images/c']?.name, 'images-c');
});

test('every layer gets a target and the build target depends on all of them', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': chain });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.deepEqual(Object.keys(projects.img?.targets ?? {}), [
    'base',
    'app',
    'tool',
    'build',
    'publish',
    'nx-release-publish',
  ]);
  assert.deepEqual(target(projects, 'img', 'build').dependsOn, ['base', 'app', 'tool']);
  assert.equal(target(projects, 'img', 'build').executor, 'nx-stacker:build');
  assert.deepEqual(target(projects, 'img', 'app').options, {
    stackerFile: 'img/stacker.yaml',
    layer: 'app',
  });
});

test('the build target name comes from the plugin options', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': chain });
  const projects = await nodes(root, ['img/stacker.yaml'], { buildTargetName: 'image' });
  assert.ok(projects.img?.targets?.image);
  assert.equal(projects.img?.targets?.build, undefined);
});

test('target names need no quoting and never clash with the build target', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('build') + layer('web/app') + layer('v1.0+x'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.deepEqual(Object.keys(projects.img?.targets ?? {}).sort(), [
    'build',
    'layer-build',
    'nx-release-publish',
    'publish',
    'v1.0-x',
    'web-app',
  ]);
  assert.deepEqual(target(projects, 'img', 'web-app').outputs, [
    '{workspaceRoot}/dist/stacker/img/layers/web%2Fapp',
  ]);
  assert.equal(target(projects, 'img', 'layer-build').options.layer, 'build');
});

test('a layer depends on the layers it is built on, within the file', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml':
      chain + layer('data', 'type: scratch', '  imports:\n    - stacker://app/etc/passwd\n'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.deepEqual(target(projects, 'img', 'base').dependsOn, []);
  assert.deepEqual(target(projects, 'img', 'app').dependsOn, ['base']);
  assert.deepEqual(target(projects, 'img', 'data').dependsOn, ['app']);
});

test("a layer built on a prerequisite file depends on that project's layer target", async (t) => {
  const root = workspace(t, {
    'base/stacker.yaml': layer('os'),
    'base/project.json': '{"name":"base-image"}',
    'app/stacker.yaml':
      'config:\n  prerequisites:\n    - ../base/stacker.yaml\n' +
      layer('app', 'type: built\ntag: os'),
  });
  const projects = await nodes(root, ['base/stacker.yaml', 'app/stacker.yaml']);
  assert.deepEqual(target(projects, 'app', 'app').dependsOn, [
    { projects: ['base-image'], target: 'os' },
  ]);
  assert.ok(
    target(projects, 'app', 'app').inputs?.some(
      (i) => typeof i === 'object' && 'dependentTasksOutputFiles' in i,
    ),
    'hashes the parent task output',
  );
});

test('editing one layer changes only its own definition input', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': chain });
  const before = await nodes(root, ['img/stacker.yaml']);
  writeFiles(root, { 'img/stacker.yaml': chain.replace('run: echo app', 'run: echo changed') });
  const after = await nodes(root, ['img/stacker.yaml']);

  for (const name of ['base', 'tool']) {
    assert.equal(
      definitionInput(target(after, 'img', name)),
      definitionInput(target(before, 'img', name)),
      `${name} keeps its definition input`,
    );
  }
  assert.notEqual(
    definitionInput(target(after, 'img', 'app')),
    definitionInput(target(before, 'img', 'app')),
  );
});

test('editing one layer keeps the project config Nx hashes into every task', async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': chain });
  const before = await nodes(root, ['img/stacker.yaml']);
  writeFiles(root, { 'img/stacker.yaml': chain.replace('run: echo app', 'run: echo changed') });
  const after = await nodes(root, ['img/stacker.yaml']);
  assert.deepEqual(hashedConfig(after.img!), hashedConfig(before.img!));
});

test('substitution values reach the definition input and the executor options', async (t) => {
  const root = workspace(t, {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: stacker's placeholder, not JavaScript's
    'img/stacker.yaml': layer('a', 'type: scratch', '  labels:\n    v: ${{V}}\n'),
  });
  const one = await nodes(root, ['img/stacker.yaml'], { substitutions: { V: '1' } });
  const two = await nodes(root, ['img/stacker.yaml'], { substitutions: { V: '2' } });
  assert.notEqual(
    definitionInput(target(one, 'img', 'a')),
    definitionInput(target(two, 'img', 'a')),
  );
  assert.deepEqual(target(two, 'img', 'a').options.substitute, ['V=2']);
});

test('an imported file is an input, an imported directory its whole tree', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('a', 'type: scratch', '  imports:\n    - conf.txt\n    - files/\n'),
    'img/conf.txt': 'x',
    'img/files/one': '1',
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  const filesets = target(projects, 'img', 'a').inputs?.filter(
    (i) => typeof i === 'object' && 'fileset' in i,
  );
  assert.deepEqual(filesets, [
    { fileset: '{workspaceRoot}/img/conf.txt', includeIgnored: true },
    { fileset: '{workspaceRoot}/img/files/**/*', includeIgnored: true },
  ]);
});

test("the imports' modes are a runtime input whose output changes with a chmod", async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('a', 'type: scratch', "  imports:\n    - it's.sh\n    - files/\n"),
    "img/it's.sh": 'echo hi\n',
    'img/files/one': '1',
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  const runtimes = (target(projects, 'img', 'a').inputs ?? []).flatMap((i) =>
    typeof i === 'object' && 'runtime' in i ? [i.runtime as string] : [],
  );
  assert.equal(runtimes.length, 2, 'the definition and the modes');
  const modes = () => execFileSync('sh', ['-c', runtimes[1]!], { cwd: root, encoding: 'utf8' });
  chmodSync(join(root, "img/it's.sh"), 0o644);
  const before = modes();
  assert.deepEqual(
    before.trim().split('\n'),
    ["644 ./img/it's.sh", '644 ./img/files/one', '755 ./img/files'].sort(),
  );
  chmodSync(join(root, "img/it's.sh"), 0o755);
  assert.notEqual(modes(), before);
});

test('an overlay_dirs source is an input: its whole tree', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('a', 'type: scratch', '  overlay_dirs:\n    - source: extra\n'),
    'img/extra/one': '1',
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  const filesets = target(projects, 'img', 'a').inputs?.filter(
    (i) => typeof i === 'object' && 'fileset' in i,
  );
  assert.deepEqual(filesets, [{ fileset: '{workspaceRoot}/img/extra/**/*', includeIgnored: true }]);
});

test('a local OCI base in another project makes that project build it first', async (t) => {
  const root = workspace(t, {
    'base/project.json': '{"name":"busybox"}',
    'img/stacker.yaml': layer('a', 'type: oci\nurl: ../base/oci:busybox'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  const a = target(projects, 'img', 'a');
  assert.deepEqual(a.dependsOn, [{ projects: ['busybox'], target: 'build' }]);
  assert.ok(
    a.inputs?.some(
      (i) => JSON.stringify(i) === '{"dependentTasksOutputFiles":"base/oci/index.json"}',
    ),
  );
  assert.ok(
    a.inputs?.some(
      (i) =>
        JSON.stringify(i) ===
        '{"fileset":"{workspaceRoot}/base/oci/index.json","includeIgnored":true}',
    ),
  );
});

test('a layer with binds is never cached; the others are', async (t) => {
  const root = workspace(t, {
    'img/stacker.yaml': layer('a') + layer('b', 'type: scratch', '  binds:\n    - /tmp -> /mnt\n'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  assert.equal(target(projects, 'img', 'a').cache, true);
  assert.equal(target(projects, 'img', 'b').cache, false);
  assert.equal(target(projects, 'img', 'build').cache, false);
});

test('a layer whose binds are hashed and in the workspace is cached, with the bound files as inputs', async (t) => {
  const root = workspace(t, {
    'src/main.c': 'int main(void) { return 0; }\n',
    'img/stacker.yaml':
      layer('in', 'type: scratch', '  binds:\n    - {source: ../src, dest: /src, hash: true}\n') +
      layer('out', 'type: scratch', '  binds:\n    - {source: /tmp, dest: /mnt, hash: true}\n'),
  });
  const projects = await nodes(root, ['img/stacker.yaml']);
  const hashed = target(projects, 'img', 'in');
  assert.equal(hashed.cache, true);
  assert.ok(
    hashed.inputs?.some(
      (i) => JSON.stringify(i) === '{"fileset":"{workspaceRoot}/src/**/*","includeIgnored":true}',
    ),
    JSON.stringify(hashed.inputs),
  );
  // Nx hashes no files outside the workspace: a bind there keeps the task uncached.
  assert.equal(target(projects, 'img', 'out').cache, false);
});

test("the plugin's gzipLevel reaches every build target, unless it is the default", async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': layer('a') });
  const fast = await nodes(root, ['img/stacker.yaml'], { gzipLevel: 1 });
  assert.equal(target(fast, 'img', 'a').options?.gzipLevel, 1);
  assert.equal(target(fast, 'img', 'build').options?.gzipLevel, 1);
  const usual = await nodes(root, ['img/stacker.yaml'], { gzipLevel: 6 });
  assert.equal('gzipLevel' in (target(usual, 'img', 'a').options ?? {}), false);
});

test("every layer writes its own output, apart from the build target's image", async (t) => {
  const root = workspace(t, { 'img/stacker.yaml': chain, 'stacker.yaml': layer('top') });
  const projects = await nodes(root, ['img/stacker.yaml', 'stacker.yaml']);
  const outputs = Object.values(projects).flatMap((p) =>
    Object.values(p.targets ?? {}).flatMap((t) => t.outputs ?? []),
  );
  assert.equal(new Set(outputs).size, outputs.length);
  for (const a of outputs) {
    for (const b of outputs) assert.ok(a === b || !b.startsWith(`${a}/`), `${b} is inside ${a}`);
  }
  assert.ok(outputs.includes('{workspaceRoot}/dist/stacker/img/layers/app'));
  assert.ok(outputs.includes('{workspaceRoot}/dist/stacker/@root/oci'));
});

test('a broken file still becomes a project and does not stop the others', async (t) => {
  const root = workspace(t, {
    'good/stacker.yaml': layer('good'),
    'bad/stacker.yaml': 'bad:\n  from:\n    type: scratch\n  runn: echo\n',
  });
  const { projects, warnings } = inferWithWarnings(root, ['bad/stacker.yaml', 'good/stacker.yaml']);
  assert.ok(projects.good?.targets?.good);
  assert.deepEqual(Object.keys(projects.bad?.targets ?? {}), ['build']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /bad\/stacker\.yaml:4:3: .*runn/);
  assert.match(warnings[0]!, /hint: did you mean 'run'\?/);
});

test('createNodes does not throw for a file that is not even YAML', async (t) => {
  const root = workspace(t, { 'bad/stacker.yaml': 'a: [\n', 'ok/stacker.yaml': layer('ok') });
  const projects = await nodes(root, ['bad/stacker.yaml', 'ok/stacker.yaml']);
  assert.ok(projects.bad?.targets?.build);
  assert.ok(projects.ok?.targets?.ok);
});
