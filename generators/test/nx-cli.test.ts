/**
 * The generators run by the real Nx CLI in a separate workspace where nx-stacker is installed
 * as `npm install -D <this repository>` installs it (a link in node_modules), and where Nx
 * cannot load TypeScript: what runs is the compiled JavaScript that generators.json names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseStackerText } from '@nx-stacker/engine';
import { createNxWorkspace, type NxWorkspace, REPO_ROOT } from '../../e2e/fixtures/nx-workspace';
import { buildGenerators } from './compile';

describe('generators through the nx CLI, plugin linked, no TypeScript loader', () => {
  let ws: NxWorkspace;

  before(() => {
    buildGenerators();
    ws = createNxWorkspace({
      name: 'nx-stacker-generators',
      linkPlugin: true,
      withoutTsLoader: true,
      files: {
        // A root project: with one, Nx would map a linked plugin's ./dist paths back to its
        // TypeScript sources, so this also checks that generators.json sidesteps that.
        'package.json': {
          name: 'user-workspace',
          private: true,
          nx: {},
          devDependencies: { 'nx-stacker': `file:${REPO_ROOT}` },
        },
        'tsconfig.base.json': { compilerOptions: {} },
        'images/web/hello.sh': '#!/bin/sh\necho hello\n',
      },
    });
  });
  after(() => ws?.remove());

  test('nx g nx-stacker:image creates a stacker.yaml, and a second call adds a layer', async () => {
    const first = await ws.nx(['g', 'nx-stacker:image', 'images/web', '--run=echo web']);
    assert.equal(first.status, 0, first.output);
    assert.match(first.output, /CREATE images\/web\/stacker\.yaml/);

    const second = await ws.nx([
      'g',
      'nx-stacker:stacker-file',
      '--directory=images/web',
      '--layer=app',
      '--imports=hello.sh',
      '--run=cp /stacker/imports/hello.sh /usr/bin/hello',
    ]);
    assert.equal(second.status, 0, second.output);
    assert.match(second.output, /UPDATE images\/web\/stacker\.yaml/);

    const file = parseStackerText(
      ws.read('images/web/stacker.yaml'),
      `${ws.root}/images/web/stacker.yaml`,
      {
        substitutions: [],
      },
    );
    assert.deepEqual(
      file.layers.map((l) => [l.name, l.from.type, l.from.tag]),
      [
        ['web', 'scratch', undefined],
        ['app', 'built', 'web'],
      ],
    );
    assert.deepEqual(
      file.layers[1]?.imports.map((i) => i.path),
      [`${ws.root}/images/web/hello.sh`],
    );
  });

  test('a refused option fails the command with the reason and writes nothing', async () => {
    const run = await ws.nx([
      'g',
      'nx-stacker:stacker-file',
      '--directory=images/bad',
      '--layer=a:b',
    ]);
    assert.notEqual(run.status, 0);
    assert.match(run.output, /layer name 'a:b' contains ':'/);
    assert.throws(() => ws.read('images/bad/stacker.yaml'), /ENOENT/);
  });

  test('nx g nx-stacker:init --keepExistingVersions (as `nx add` runs it) works', async () => {
    // Last in this workspace: once registered, Nx loads the plugin's createNodes on every
    // command, which is not what these tests are about.
    const run = await ws.nx(['g', 'nx-stacker:init', '--keepExistingVersions']);
    assert.equal(run.status, 0, run.output);

    assert.deepEqual(JSON.parse(ws.read('nx.json')).plugins, [
      { plugin: 'nx-stacker', options: {} },
    ]);
    assert.match(ws.read('.gitignore'), /^\.nx-stacker\/\ndist\/stacker\/\n$/m);
    assert.equal(
      JSON.parse(ws.read('package.json')).devDependencies['nx-stacker'],
      `file:${REPO_ROOT}`,
    );
  });
});
