import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { buildSubstitutions, loadStackerFile } from '../../engine/src/parse';
import { writeFiles } from '../../engine/test/helpers';
import { cli } from './helpers';

function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-convert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFiles(dir, files);
  return dir;
}

const DOCKERFILE = `FROM alpine:3.20 AS build
ARG VERSION=1.0
RUN echo $VERSION > /version
EXPOSE 8080

FROM scratch
COPY --from=build /version /version
HEALTHCHECK CMD true
CMD ["/bin/app"]
`;

test('writes stacker.yaml and stacker-subs.yaml that build with --substitute-file', (t) => {
  const dir = project(t, { Dockerfile: DOCKERFILE });
  const r = cli(['convert'], dir);
  assert.equal(r.status, 0, r.stderr);

  const subs = readFileSync(join(dir, 'stacker-subs.yaml'), 'utf8');
  assert.equal(subs, 'VERSION: "1.0"\nIMAGE: app\n');
  const file = loadStackerFile(join(dir, 'stacker.yaml'), {
    substitutions: buildSubstitutions({
      flags: [],
      file: join(dir, 'stacker-subs.yaml'),
      stackerDir: dir,
      rootsDir: dir,
      ociDir: dir,
    }),
  });
  assert.deepEqual(
    file.layers.map((l) => [l.name, l.buildOnly]),
    [
      ['build', true],
      ['app', false],
    ],
  );
  assert.deepEqual(file.layers[0]?.run, ["sh -e -c 'echo 1.0 > /version'"]);
});

test('what it cannot map is warned about with file and line, and listed in the file', (t) => {
  const dir = project(t, { Dockerfile: DOCKERFILE });
  const r = cli(['convert'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: .*\/Dockerfile:4: EXPOSE: not converted: /m);
  assert.match(r.stderr, /^warning: .*\/Dockerfile:8: HEALTHCHECK: not converted: /m);
  const text = readFileSync(join(dir, 'stacker.yaml'), 'utf8');
  assert.match(text, /^#\s+Dockerfile:4: EXPOSE: /m);
  assert.match(text, /^#\s+Dockerfile:8: HEALTHCHECK: /m);
});

test('-i, -o and -s name the input and output files; no substitutions, no substitute file', (t) => {
  const dir = project(t, { 'docker/App.dockerfile': 'FROM alpine AS final\nRUN true\n' });
  const r = cli(
    ['convert', '-i', 'docker/App.dockerfile', '-o', 'out.yaml', '-s', 'subs.yaml'],
    dir,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(join(dir, 'out.yaml'), 'utf8'), /^final:$/m);
  assert.ok(!existsSync(join(dir, 'subs.yaml')));
});

test('a Dockerfile it cannot read as one fails with the line, and writes nothing', (t) => {
  const dir = project(t, { Dockerfile: 'FROM a b c d\n' });
  const r = cli(['convert'], dir);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: .*\/Dockerfile:1: conversion failed: unsupported FROM directive/m,
  );
  assert.ok(!existsSync(join(dir, 'stacker.yaml')));
});

test('a missing Dockerfile is an error naming it', (t) => {
  const dir = project(t, {});
  const r = cli(['convert'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /conversion failed: couldn't read .*\/Dockerfile/);
});
