/**
 * The Nx plugin end to end, in a workspace that installed it from this repository: real
 * builds through LXC (as root), Nx's own cache, project graph and affected detection.
 * The tests of the first suite run in order on one workspace, each starting from the state
 * the previous one left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createStackerWorkspace,
  requireRoot,
  type StackerWorkspace,
  taskResults,
  tasksRun,
} from './fixtures/stacker-workspace';

/** base -> mid -> top, and side on base: mid imports a file; top and side are siblings. */
const APP = `
base:
  from:
    type: oci
    url: ../base/oci:busybox
  run: echo base > /base.txt
mid:
  from:
    type: built
    tag: base
  imports:
    - conf/mid.conf
  run: cp /stacker/imports/mid.conf /etc/mid.conf
top:
  from:
    type: built
    tag: mid
  run: echo top > /top.txt
side:
  from:
    type: built
    tag: base
  run: echo side > /side.txt
`;

/** An image built on app's top layer, through config.prerequisites. */
const CHILD = `
config:
  prerequisites:
    - ../app/stacker.yaml
child:
  from:
    type: built
    tag: top
  run: echo child > /child.txt
`;

/** An image that shares nothing with app but the base. */
const OTHER = `
other:
  from:
    type: oci
    url: ../base/oci:busybox
  run: echo other > /other.txt
`;

const APP_LAYERS = ['app:base', 'app:mid', 'app:side', 'app:top'];

describe('nx-stacker in an Nx workspace', () => {
  let ws: StackerWorkspace;
  let skip = false;
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const cleanup of cleanups) cleanup();
  });

  before(() => {
    if (process.geteuid?.() !== 0 && !process.env.CI) {
      skip = true;
      return;
    }
    ws = createStackerWorkspace(
      { after: (fn) => cleanups.push(fn) },
      {
        'app/stacker.yaml': APP,
        'app/conf/mid.conf': 'mid=1\n',
        'child/stacker.yaml': CHILD,
        'other/stacker.yaml': OTHER,
      },
    );
  });

  test('every stacker.yaml is a project whose layers are targets', (t) => {
    if (skip || !requireRoot(t)) return;
    const projects = JSON.parse(ws.nxOk(['show', 'projects', '--json'])) as string[];
    assert.deepEqual(projects.sort(), ['app', 'base', 'child', 'other']);
    const app = JSON.parse(ws.nxOk(['show', 'project', 'app', '--json']));
    assert.deepEqual(Object.keys(app.targets).sort(), [
      'base',
      'build',
      'mid',
      'nx-release-publish',
      'publish',
      'side',
      'top',
    ]);
    assert.match(app.targets.mid.metadata.description, /Build layer mid of app\/stacker.yaml/);
  });

  test('nx graph shows the edges from prerequisites and local bases', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.nxOk(['graph', '--file=graph.json']);
    const graph = JSON.parse(ws.read('graph.json')).graph;
    const edges = (p: string) =>
      graph.dependencies[p].map((d: { target: string }) => d.target).sort();
    assert.deepEqual(edges('app'), ['base']);
    assert.deepEqual(edges('child'), ['app']);
    assert.deepEqual(edges('other'), ['base']);
  });

  test('the first run builds every layer and assembles the image', (t) => {
    if (skip || !requireRoot(t)) return;
    const output = ws.nxOk(['run', 'app:build']);
    assert.deepEqual(tasksRun(output), ['app:build', ...APP_LAYERS, 'base:build'].sort());
    for (const layer of ['base', 'mid', 'top', 'side']) {
      assert.match(output, new RegExp(`✔ ${layer} built`), `${layer} was built`);
      assert.ok(existsSync(join(ws.root, 'dist/stacker/app/layers', layer, 'layer.key')));
    }
    const tags = execFileSync('umoci', ['ls', '--layout', join(ws.root, 'dist/stacker/app/oci')]);
    assert.deepEqual(tags.toString().trim().split('\n').sort(), ['base', 'mid', 'side', 'top']);
  });

  test('the second run restores every layer from the cache and runs no container', (t) => {
    if (skip || !requireRoot(t)) return;
    const output = ws.nxOk(['run', 'app:build']);
    const results = taskResults(output);
    for (const id of [...APP_LAYERS, 'base:build'])
      assert.equal(results.get(id), 'local cache', id);
    assert.deepEqual(tasksRun(output), ['app:build']);
    assert.match(output, /assembled dist\/stacker\/app\/oci: 4 tag\(s\)/);
  });

  test('editing one layer reruns exactly that layer and the layers built on it', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.write(
      'app/stacker.yaml',
      APP.replace('cp /stacker/imports/mid.conf', 'cp -p /stacker/imports/mid.conf'),
    );
    const output = ws.nxOk(['run', 'app:build']);
    assert.deepEqual(tasksRun(output), ['app:build', 'app:mid', 'app:top']);
    assert.match(output, /mid: building \(layer definition changed\)/);
  });

  test('editing an imported file reruns exactly the layer importing it and its dependents', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.write('app/conf/mid.conf', 'mid=2\n');
    // Without batch mode, as a process per task: the executor's other way of running.
    const output = ws.nxOk(['run', 'app:build', '--batch=false']);
    assert.deepEqual(tasksRun(output), ['app:build', 'app:mid', 'app:top']);
    assert.match(output, /mid: building \(import app\/conf\/mid.conf changed\)/);
  });

  test('making an imported file executable reruns the layer, though its bytes are the same', (t) => {
    if (skip || !requireRoot(t)) return;
    chmodSync(join(ws.root, 'app/conf/mid.conf'), 0o755);
    const output = ws.nxOk(['run', 'app:build']);
    assert.deepEqual(tasksRun(output), ['app:build', 'app:mid', 'app:top']);
    assert.match(output, /mid: building \(import app\/conf\/mid.conf changed\)/);
  });

  test('nx affected after touching an imported file selects its project and dependents', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.commit('edits');
    ws.write('app/conf/mid.conf', 'mid=3\n');
    const affected = JSON.parse(
      ws.nxOk(['show', 'projects', '--affected', '--base=HEAD', '--json']),
    );
    assert.deepEqual(affected.sort(), ['app', 'child']);
  });

  test("a layer built on another project's layer follows it across files", (t) => {
    if (skip || !requireRoot(t)) return;
    const output = ws.nxOk(['run', 'child:build']);
    assert.deepEqual(tasksRun(output), ['app:mid', 'app:top', 'child:build', 'child:child']);
    assert.equal(taskResults(output).get('app:base'), 'local cache');
  });

  test('two independent images build in parallel on shared storage', (t) => {
    if (skip || !requireRoot(t)) return;
    // The first layers of the two images meet through a bind mount: each marks its arrival
    // and waits for the other's, so they only succeed when they run at the same time. Their
    // second layers have the same name, hence the same upper dir in the shared roots dir.
    const sync = mkdtempSync(join(tmpdir(), 'nx-stacker-meet-'));
    cleanups.push(() => rmSync(sync, { recursive: true, force: true }));
    const image = (me: string, other: string) =>
      [
        `meet-${me}:`,
        '  from:',
        '    type: oci',
        '    url: ../base/oci:busybox',
        '  binds:',
        `    - ${sync} -> /sync`,
        '  run: |',
        `    touch /sync/${me}`,
        '    i=0',
        `    while [ ! -e /sync/${other} ]; do i=$((i+1)); [ $i -gt 60 ] && exit 1; sleep 1; done`,
        'two:',
        '  from:',
        '    type: built',
        `    tag: meet-${me}`,
        `  run: echo ${me} > /two.txt`,
        '',
      ].join('\n');
    ws.write('par-a/stacker.yaml', image('a', 'b'));
    ws.write('par-b/stacker.yaml', image('b', 'a'));

    const output = ws.nxOk(['run-many', '-t', 'build', '-p', 'par-a', 'par-b', '--parallel=4']);
    assert.deepEqual(tasksRun(output), [
      'par-a:build',
      'par-a:meet-a',
      'par-a:two',
      'par-b:build',
      'par-b:meet-b',
      'par-b:two',
    ]);
    for (const name of ['par-a', 'par-b']) {
      const dir = join(ws.root, 'dist/stacker', name, 'oci');
      const config = execFileSync('skopeo', ['inspect', '--config', `oci:${dir}:two`]);
      assert.equal(JSON.parse(config.toString()).rootfs.diff_ids.length, 3);
    }
  });

  test('a broken stacker.yaml is reported with its location; the rest still works', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.write('broken/stacker.yaml', 'broken:\n  from:\n    type: scratch\n  rnu: echo\n');
    const shown = ws.nx(['show', 'projects', '--json']);
    assert.equal(shown.status, 0, shown.output);
    assert.match(shown.output, /broken\/stacker\.yaml:4:3: layer 'broken': unknown directive rnu/);
    const list = /^\[.*\]$/m.exec(shown.output)?.[0] ?? '[]';
    assert.ok((JSON.parse(list) as string[]).includes('other'));

    const failed = ws.nx(['run', 'broken:build']);
    assert.notEqual(failed.status, 0);
    assert.match(failed.output, /error: .*broken\/stacker\.yaml:4:3: .*unknown directive rnu/);
    assert.equal(ws.nx(['run', 'other:build']).status, 0);
  });

  test('a layer whose bind is hashed is cached, and rebuilt when the bound files change', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.write('bound/src/app.conf', 'v=1\n');
    ws.write(
      'bound/stacker.yaml',
      `${OTHER.replace('other:', 'bound:')}  binds:\n    - {source: src, dest: /src, hash: true}\n`.replace(
        'echo other > /other.txt',
        'cp /src/app.conf /app.conf',
      ),
    );
    assert.deepEqual(tasksRun(ws.nxOk(['run', 'bound:build'])), ['bound:bound', 'bound:build']);
    const again = taskResults(ws.nxOk(['run', 'bound:build']));
    assert.equal(again.get('bound:bound'), 'local cache');
    ws.write('bound/src/app.conf', 'v=2\n');
    const changed = ws.nxOk(['run', 'bound:build']);
    assert.deepEqual(tasksRun(changed), ['bound:bound', 'bound:build']);
    assert.match(changed, /bound: building \(content of bind .*bound\/src changed\)/);
  });

  test('NX_STACKER_NO_CACHE=1 with --skip-nx-cache rebuilds each layer once, to the same bytes at another commit', (t) => {
    if (skip || !requireRoot(t)) return;
    const rerun = ws.nxOk(['run', 'app:build', '--skip-nx-cache']);
    assert.doesNotMatch(rerun, /: building \(/, 'without it the engine reuses its results');
    const image = join(ws.root, 'dist/stacker/app/oci');
    const before = ociTags(image);

    ws.write('unrelated.txt', 'a new commit\n');
    ws.commit('unrelated');
    const fresh = ws.nxOk(['run', 'app:build', '--skip-nx-cache'], { NX_STACKER_NO_CACHE: '1' });
    for (const layer of ['base', 'mid', 'top', 'side']) {
      const lines = fresh.match(new RegExp(`^${layer}: building \\(--no-cache given\\)`, 'gm'));
      assert.equal(lines?.length, 1, `${layer} rebuilt once:\n${fresh}`);
    }
    // No git_version annotation: the commit is no input of a layer task.
    assert.deepEqual(ociTags(image), before);
  });

  test('layerTypes in the plugin options add squashfs images next to the tar ones', (t) => {
    if (skip || !requireRoot(t)) return;
    ws.write('nx.json', {
      plugins: [
        { plugin: 'nx-stacker', exclude: ['typed/**'] },
        {
          plugin: 'nx-stacker',
          include: ['typed/**'],
          options: { layerTypes: ['tar', 'squashfs'] },
        },
      ],
    });
    ws.write('typed/stacker.yaml', OTHER.replace('other:', 'typed:'));
    ws.nxOk(['run', 'typed:build']);
    const oci = join(ws.root, 'dist/stacker/typed/oci');
    const tags = execFileSync('umoci', ['ls', '--layout', oci]).toString().trim().split('\n');
    assert.deepEqual(tags.sort(), ['typed', 'typed-squashfs']);
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci:${oci}:typed-squashfs`]);
    const layers = JSON.parse(raw.toString()).layers as { mediaType: string }[];
    assert.match(
      layers.at(-1)?.mediaType ?? '',
      /^application\/vnd\.stacker\.image\.layer\.squashfs/,
    );
  });
});

/** Tag -> manifest digest of an OCI layout's index. */
function ociTags(dir: string): Record<string, string> {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  return Object.fromEntries(
    index.manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'], m.digest]),
  );
}
