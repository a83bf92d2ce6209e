// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are stacker placeholders
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { convertDockerfile } from '../../src/convert/convert';
import { StackerError } from '../../src/errors';
import { hostArch, parseStackerText } from '../../src/parse';
import type { StackerFile } from '../../src/parse/types';

/** Converts, then reads the result back with our own stacker file parser. */
function convertAndParse(dockerfile: string, extraSubs: string[] = []) {
  const result = convertDockerfile(dockerfile, '/src/Dockerfile');
  const subs = [...extraSubs, ...result.substitutions.map(([k, v]) => `${k}=${v}`)];
  const file: StackerFile = parseStackerText(result.stackerYaml, '/src/stacker.yaml', {
    substitutions: subs,
  });
  return { result, file, layer: (name: string) => file.layers.find((l) => l.name === name) };
}

const MULTI_STAGE = `ARG VERSION=1.22
FROM golang:\${VERSION} AS build
ENV CGO_ENABLED=0
WORKDIR /src
COPY go.mod main.go ./
RUN go build -o /out/app .

FROM build AS test
RUN go test ./...

FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
`;

describe('convertDockerfile', () => {
  test('a multi-stage Dockerfile becomes a stacker file our parser reads', () => {
    const { file } = convertAndParse(MULTI_STAGE);
    assert.deepEqual(
      file.layers.map((l) => l.name),
      ['build', 'test', 'app'],
    );
  });

  test('every stage but the last is build_only', () => {
    const { file } = convertAndParse(MULTI_STAGE);
    assert.deepEqual(
      file.layers.map((l) => l.buildOnly),
      [true, true, false],
    );
  });

  test('FROM an image is a docker base, ARG references filled in from the substitute file', () => {
    const { layer, result } = convertAndParse(MULTI_STAGE);
    assert.deepEqual(layer('build')?.from.type, 'docker');
    assert.equal(layer('build')?.from.url, 'docker://golang:1.22');
    assert.deepEqual(result.substitutions, [
      ['VERSION', '1.22'],
      ['IMAGE', 'app'],
    ]);
  });

  test('FROM an earlier stage is a built base that keeps its directory and environment', () => {
    const { layer } = convertAndParse(MULTI_STAGE);
    assert.equal(layer('test')?.from.type, 'built');
    assert.equal(layer('test')?.from.tag, 'build');
    assert.deepEqual(layer('test')?.run, [
      'cd /src',
      'export CGO_ENABLED=0',
      "sh -e -c 'go test ./...'",
    ]);
  });

  test('a stage built on a build_only stage repeats its image directives', () => {
    const { layer } = convertAndParse(
      'FROM a AS base\nWORKDIR /w\nUSER 5\nLABEL k=v\nCMD ["x"]\nFROM base\nRUN pwd\n',
    );
    const app = layer('app');
    assert.deepEqual(
      [app?.workingDir, app?.runtimeUser, app?.labels, app?.cmd],
      ['/w', '5', { k: 'v' }, ['x']],
    );
    assert.deepEqual(app?.run, ['cd /w', "su -p 5 -c 'pwd'"]);
  });

  test('WORKDIR, ENV and RUN become run lines; mkdir gets -p', () => {
    const { layer } = convertAndParse(
      'FROM alpine\nWORKDIR /w\nENV A=1 B="two words"\nRUN mkdir x && mkdir -p y\n',
    );
    assert.deepEqual(layer('app')?.run, [
      'mkdir -p /w',
      'cd /w',
      'export A=1',
      'export B="two words"',
      "sh -e -c 'mkdir -p x && mkdir -p y'",
    ]);
    assert.equal(layer('app')?.workingDir, '/w');
  });

  test('COPY sources become imports with absolute dests; --from is a stacker:// import', () => {
    const { layer } = convertAndParse(MULTI_STAGE);
    assert.deepEqual(
      layer('build')?.imports.map((i) => [i.path, i.dest]),
      [
        ['/src/go.mod', '/src/'],
        ['/src/main.go', '/src/'],
      ],
    );
    assert.deepEqual(
      layer('app')?.imports.map((i) => [i.path, i.dest]),
      [['stacker://build/out/app', '/app']],
    );
  });

  test('numeric --chown and octal --chmod become uid, gid and mode', () => {
    const { layer } = convertAndParse('FROM a\nCOPY --chown=10:20 --chmod=750 f /f\n');
    const imp = layer('app')?.imports[0];
    assert.deepEqual([imp?.uid, imp?.gid, imp?.mode], [10, 20, 0o750]);
  });

  test('USER switches later run lines to su and sets runtime_user', () => {
    const { layer } = convertAndParse('FROM a\nUSER 1000:1000\nRUN id\n');
    assert.deepEqual(layer('app')?.run, ["su -p 1000 -c 'id'"]);
    assert.equal(layer('app')?.runtimeUser, '1000:1000');
  });

  test('CMD shell form runs through /bin/sh -c; JSON forms are kept', () => {
    const { layer } = convertAndParse('FROM a\nCMD echo "hi there"\nENTRYPOINT ["/e", "-x"]\n');
    assert.deepEqual(layer('app')?.cmd, ['/bin/sh', '-c', 'echo "hi there"']);
    assert.deepEqual(layer('app')?.entrypoint, ['/e', '-x']);
  });

  test('a JSON RUN is one command line', () => {
    const { layer } = convertAndParse('FROM a\nRUN ["echo", "a b"]\n');
    assert.deepEqual(layer('app')?.run, [`sh -e -c 'echo '"'"'a b'"'"''`]);
  });

  test('LABEL, MAINTAINER and VOLUME map to labels, the authors annotation and volumes', () => {
    const { layer } = convertAndParse(
      'FROM a\nLABEL a="x y" b=2\nMAINTAINER me@example.com\nVOLUME ["/data", "/logs"]\n',
    );
    assert.deepEqual(layer('app')?.labels, { a: 'x y', b: '2' });
    assert.equal(layer('app')?.annotations['org.opencontainers.image.authors'], 'me@example.com');
    assert.deepEqual(layer('app')?.volumes, ['/data', '/logs']);
  });

  test('an ARG without default is empty unless substituted, as in Docker', () => {
    const plain = convertAndParse('ARG FLAGS\nFROM a\nRUN make $FLAGS\n');
    assert.deepEqual(plain.layer('app')?.run, ["sh -e -c 'make '"]);
    const given = convertAndParse('ARG FLAGS\nFROM a\nRUN make $FLAGS\n', ['FLAGS=-j4']);
    assert.deepEqual(given.layer('app')?.run, ["sh -e -c 'make -j4'"]);
  });

  test('every layer gets the host arch in build_env, as stacker does', () => {
    const { layer } = convertAndParse('FROM scratch\n');
    assert.equal(layer('app')?.from.type, 'scratch');
    assert.deepEqual(layer('app')?.buildEnv, { arch: hostArch() });
  });

  test('instructions it cannot map are reported with their lines, not dropped silently', () => {
    const { result, file } = convertAndParse(
      [
        'FROM a',
        'EXPOSE 80',
        'ADD https://x/y.tgz /y',
        'RUN --mount=type=cache,target=/c make',
        'RUN <<EOF',
        'echo hi',
        'EOF',
        'COPY *.txt /t/',
        'FROBNICATE now',
      ].join('\n'),
    );
    assert.deepEqual(
      result.unconverted.map((u) => [u.line, u.keyword]),
      [
        [2, 'EXPOSE'],
        [3, 'ADD'],
        [4, 'RUN'],
        [5, 'RUN'],
        [8, 'COPY'],
        [9, 'FROBNICATE'],
      ],
    );
    assert.match(result.unconverted[5]?.reason ?? '', /unknown Dockerfile cmd: FROBNICATE/);
    assert.match(result.stackerYaml, /^#\s+Dockerfile:3: ADD: not converted/m);
    assert.deepEqual(file.layers[0]?.run, ["sh -e -c 'make'"], 'the RUN without its flag');
  });

  test('the output is plain YAML whose layers are in Dockerfile order', () => {
    const { result } = convertAndParse('FROM b AS zeta\nFROM a AS alpha\nFROM c\n');
    const doc = parseYaml(result.stackerYaml) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc), ['zeta', 'alpha', '${{IMAGE}}']);
    assert.equal(result.substitutionsYaml, 'IMAGE: app\n');
  });

  test('no substitute file text when there is nothing to substitute', () => {
    const { result } = convertAndParse('FROM a AS final\n');
    assert.deepEqual(result.substitutions, []);
    assert.equal(result.substitutionsYaml, undefined);
  });

  for (const [name, text, message, line] of [
    ['no FROM', 'ARG A=1\n', /the Dockerfile has no FROM/, undefined],
    ['an unsupported FROM form', 'FROM a b\n', /unsupported FROM directive/, 1],
    ['an instruction before FROM', 'RUN true\n', /RUN before the first FROM/, 1],
    ['a malformed ENV', 'FROM a\nENV A=1 B\n', /invalid arg - B/, 2],
    ['a malformed ARG', 'FROM a\nARG 1x=2\n', /invalid arg - 1x=2/, 2],
  ] as const) {
    test(`${name} fails the conversion at its line`, () => {
      assert.throws(
        () => convertDockerfile(text, '/src/Dockerfile'),
        (err: unknown) =>
          err instanceof StackerError &&
          message.test(err.message) &&
          err.message.startsWith('conversion failed: ') &&
          err.where.line === line,
      );
    });
  }
});
