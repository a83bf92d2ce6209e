/**
 * `nx g nx-stacker:convert` run by the real Nx CLI, in a workspace where nx-stacker is linked
 * and Nx cannot load TypeScript (see nx-cli.test.ts): what runs is the compiled generator and
 * the compiled engine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseStackerText } from '@nx-stacker/engine';
import { createNxWorkspace, type NxWorkspace } from '../../e2e/fixtures/nx-workspace';
import { buildGenerators } from './compile';

describe('nx g nx-stacker:convert through the nx CLI', () => {
  let ws: NxWorkspace;

  before(() => {
    buildGenerators();
    ws = createNxWorkspace({
      name: 'nx-stacker-convert',
      linkPlugin: true,
      withoutTsLoader: true,
      files: {
        'images/api/Dockerfile': 'FROM alpine:3.20\nRUN apk add curl\nEXPOSE 80\nCMD ["curl"]\n',
      },
    });
  });
  after(() => ws?.remove());

  test('writes the stacker file and reports the unconverted line', async () => {
    const run = await ws.nx(['g', 'nx-stacker:convert', 'images/api/Dockerfile']);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /images\/api\/Dockerfile:3: EXPOSE: not converted/);
    assert.match(run.output, /CREATE images\/api\/stacker\.yaml/);
    assert.match(run.output, /CREATE images\/api\/stacker-subs\.yaml/);

    const file = parseStackerText(
      ws.read('images/api/stacker.yaml'),
      `${ws.root}/images/api/stacker.yaml`,
      { substitutions: [] },
    );
    assert.deepEqual(
      file.layers.map((l) => [l.name, l.from.url]),
      [['app', 'docker://alpine:3.20']],
    );
  });

  test('a second run without --overwrite fails and says why', async () => {
    const run = await ws.nx(['g', 'nx-stacker:convert', 'images/api/Dockerfile']);
    assert.notEqual(run.status, 0);
    assert.match(run.output, /already exist/);
  });
});
