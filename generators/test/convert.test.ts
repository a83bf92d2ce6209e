// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are stacker placeholders
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { logger, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parseStackerText, type StackerFile } from '@nx-stacker/engine';
import { convertGenerator } from '../convert/generator';
import type { ConvertGeneratorSchema } from '../convert/schema';

const DOCKERFILE = `ARG VERSION=1.22
FROM golang:\${VERSION} AS build
WORKDIR /src
COPY main.go ./
RUN go build -o /out/app .
EXPOSE 8080

FROM scratch
COPY --from=build /out/app /app
HEALTHCHECK CMD ["/app", "-check"]
ENTRYPOINT ["/app"]
`;

/** A workspace holding `images/web/Dockerfile`. */
function workspace(dockerfile = DOCKERFILE): Tree {
  const tree = createTreeWithEmptyWorkspace({ formatter: 'none' });
  tree.write('images/web/Dockerfile', dockerfile);
  return tree;
}

function convert(tree: Tree, options: Partial<ConvertGeneratorSchema> = {}): Promise<void> {
  return convertGenerator(tree, { dockerfile: 'images/web/Dockerfile', ...options });
}

/** The file as the engine reads it (tree paths are under /virtual), with `substitutions`. */
function parsed(tree: Tree, file: string, substitutions: string[] = []): StackerFile {
  const text = tree.read(file, 'utf-8');
  assert.ok(text !== null, `${file} exists`);
  return parseStackerText(text, `/virtual/${file}`, { substitutions });
}

/** Collects what the generator warns about. */
function warnings(t: TestContext): string[] {
  const seen: string[] = [];
  t.mock.method(logger, 'warn', (message: string) => seen.push(message));
  t.mock.method(logger, 'info', () => {});
  return seen;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => assert.fail('the generator should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error);
  return err.message;
}

describe('convert', () => {
  test('writes stacker.yaml beside the Dockerfile, readable without flags', async (t) => {
    warnings(t);
    const tree = workspace();
    await convert(tree);

    const file = parsed(tree, 'images/web/stacker.yaml');
    assert.deepEqual(
      file.layers.map((l) => [l.name, l.from.type, l.buildOnly]),
      [
        ['build', 'docker', true],
        ['app', 'scratch', false],
      ],
    );
    assert.equal(file.layers[0]?.from.url, 'docker://golang:1.22');
    assert.deepEqual(file.layers[1]?.entrypoint, ['/app']);
  });

  test('writes stacker-subs.yaml; a given value beats the inlined default', async (t) => {
    warnings(t);
    const tree = workspace();
    await convert(tree);

    assert.equal(
      tree.read('images/web/stacker-subs.yaml', 'utf-8'),
      'VERSION: "1.22"\nIMAGE: app\n',
    );
    const text = tree.read('images/web/stacker.yaml', 'utf-8') ?? '';
    assert.match(text, /url: docker:\/\/golang:\$\{\{VERSION:1\.22\}\}/);
    const file = parsed(tree, 'images/web/stacker.yaml', ['VERSION=1.23', 'IMAGE=web']);
    assert.equal(file.layers[0]?.from.url, 'docker://golang:1.23');
    assert.equal(file.layers[1]?.name, 'web');
  });

  test('reports each instruction it cannot convert with its line, and carries on', async (t) => {
    const seen = warnings(t);
    const tree = workspace();
    await convert(tree);

    assert.deepEqual(seen, [
      'images/web/Dockerfile:6: EXPOSE: not converted: stacker images declare no ports',
      'images/web/Dockerfile:10: HEALTHCHECK: not converted: stacker images have no health check',
    ]);
    assert.match(tree.read('images/web/stacker.yaml', 'utf-8') ?? '', /# {3}Dockerfile:6: EXPOSE/);
  });

  test('inlineDefaults false leaves bare placeholders, as the CLI writes them', async (t) => {
    warnings(t);
    const tree = workspace();
    await convert(tree, { inlineDefaults: false });

    assert.match(tree.read('images/web/stacker.yaml', 'utf-8') ?? '', /golang:\$\{\{VERSION\}\}/);
    assert.throws(() => parsed(tree, 'images/web/stacker.yaml'), /no value for substitution/);
    const file = parsed(tree, 'images/web/stacker.yaml', ['VERSION=1.22', 'IMAGE=app']);
    assert.equal(file.layers[0]?.from.url, 'docker://golang:1.22');
  });

  test('writes where outputFile/substituteFile say; warns about relative paths', async (t) => {
    const seen = warnings(t);
    const tree = workspace();
    await convert(tree, {
      outputFile: 'stacker/web.yaml',
      substituteFile: 'stacker/web-subs.yaml',
    });

    assert.ok(tree.exists('stacker/web.yaml'));
    assert.ok(tree.exists('stacker/web-subs.yaml'));
    assert.ok(!tree.exists('images/web/stacker.yaml'));
    assert.ok(seen.some((w) => /relative paths in stacker\/web\.yaml .* resolve against/.test(w)));
  });

  test('an existing stacker file is refused, nothing written; overwrite replaces it', async (t) => {
    warnings(t);
    const tree = workspace();
    tree.write('images/web/stacker.yaml', 'mine: {from: {type: scratch}}\n');

    const message = await failure(convert(tree));
    assert.match(message, /^images\/web\/stacker\.yaml already exists\n {2}hint: pass --overwrite/);
    assert.equal(tree.read('images/web/stacker.yaml', 'utf-8'), 'mine: {from: {type: scratch}}\n');
    assert.ok(!tree.exists('images/web/stacker-subs.yaml'));

    await convert(tree, { overwrite: true });
    assert.equal(parsed(tree, 'images/web/stacker.yaml').layers[0]?.name, 'build');
  });

  test('a missing Dockerfile, or one without FROM, fails with the place', async (t) => {
    warnings(t);
    const missing = await failure(convert(workspace(), { dockerfile: 'images/api/Dockerfile' }));
    assert.match(missing, /^images\/api\/Dockerfile does not exist/);

    const tree = workspace('RUN echo hi\n');
    const noFrom = await failure(convert(tree));
    assert.match(noFrom, /^images\/web\/Dockerfile.*: conversion failed/);
    assert.ok(!tree.exists('images/web/stacker.yaml'));
  });

  test('paths outside the workspace are refused', async (t) => {
    warnings(t);
    const message = await failure(convert(workspace(), { outputFile: '../stacker.yaml' }));
    assert.match(message, /--outputFile '..\/stacker.yaml' is outside the workspace/);
  });
});
