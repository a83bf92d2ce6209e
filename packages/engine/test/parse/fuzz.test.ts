// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are stacker placeholders
/**
 * Deterministic fuzzing of the parse step: valid stacker files mutated with a seeded PRNG.
 * Whatever the input, the outcome is a StackerFile or a located StackerError, never another
 * exception, and never a hang.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StackerError } from '../../src/errors';
import { parseStackerText } from '../../src/parse';
import { BASE_TYPES } from '../../src/parse/from';

const HASH = 'd'.repeat(64);

const SEEDS = [
  `config:
  prerequisites:
    - ../base/stacker.yaml
base: &base
  from:
    type: oci
    url: \${{OCI:../oci}}:busybox
  imports:
    - files/
    - path: https://example.com/a.tgz
      hash: ${HASH}
      dest: /opt/
      mode: 0644
      uid: 1000
      gid: -1
  environment:
    A: 1
    B: "two"
  run: |
    echo hello
  build_only: true
app:
  <<: *base
  from:
    type: built
    tag: base
  build_only: false
  cmd: sh -c "echo 'a b'"
  entrypoint: [/bin/sh]
  binds:
    - /dev/kvm
    - /host -> /ctr
    - {source: cache, dest: /var/cache}
  overlay_dirs:
    - source: overlay
      dest: /usr
  labels: {org.example: yes}
  annotations: {a: b}
  volumes: [/data]
  working_dir: /src
  runtime_user: 1000
  os: linux
  arch: amd64
  build_env: {X: y}
  build_env_passthrough: ["GO.*", TERM]
  generate_labels:
    - echo x
`,
  `# a docker based layer
web:
  from: {type: docker, url: "docker://alpine:\${{TAG:3.20}}", insecure: no}
  import:
    - legacy.txt
  run:
    - apk add curl
    - echo $HOME
  full_command: /usr/bin/web --port 80
tarball:
  from:
    type: tar
    url: stacker://web/out.tar
  imports: single/file
`,
];

const TOKENS = [
  ':',
  ': ',
  '- ',
  '\n',
  '\n  ',
  '  ',
  '\t',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '&a ',
  '*a',
  '*base',
  '<<: *base\n  ',
  '!!str ',
  '!x ',
  '|',
  '>',
  '#',
  '~',
  'yes',
  'null',
  '0777',
  '-1',
  '1.5',
  '${{X}}',
  '${{NOPE}}',
  '${{D:}}',
  '$X',
  '${X}',
  'from:',
  'type: built',
  'imports:',
  'url:',
  'config:',
  '\0',
  '\u00e9',
  '\uFFFD',
  '---\n',
  '? ',
  '%YAML 1.1\n',
];

/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const at = pick(text.length + 1);
  const lines = text.split('\n');
  switch (pick(6)) {
    case 0:
      return text.slice(0, at) + TOKENS[pick(TOKENS.length)] + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + pick(20));
    case 2:
      return text.slice(0, at) + String.fromCharCode(pick(128)) + text.slice(at + 1);
    case 3: {
      const i = pick(lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 4: {
      const [i, j] = [pick(lines.length), pick(lines.length)];
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    default: {
      const i = pick(lines.length);
      lines[i] = ' '.repeat(pick(5)) + lines[i]!.trimStart();
      return lines.join('\n');
    }
  }
}

test('2000 mutated stacker files each parse or give a located StackerError', () => {
  const random = prng(20240601);
  const path = '/fuzz/dir/stacker.yaml';
  const outcomes = { parsed: 0, rejected: 0 };
  const started = Date.now();

  for (let i = 0; i < 2000; i++) {
    let text = SEEDS[i % SEEDS.length]!;
    const rounds = 1 + Math.floor(random() * 4);
    for (let r = 0; r < rounds; r++) text = mutate(text, random);

    const opts = { substitutions: ['X=1', 'OCI=/oci'], requireHash: random() < 0.5 };
    try {
      const file = parseStackerText(text, path, opts);
      for (const layer of file.layers) assert.ok(BASE_TYPES.includes(layer.from.type));
      outcomes.parsed++;
    } catch (err) {
      if (!(err instanceof StackerError)) {
        assert.fail(`input #${i} threw ${(err as Error)?.stack}\n--- input ---\n${text}`);
      }
      assert.equal(err.where.file, path, err.format());
      assert.ok((err.where.line ?? 0) >= 1, `no line: ${err.format()}\n--- input ---\n${text}`);
      outcomes.rejected++;
    }
  }

  // Both outcomes must be common, or the mutations are not exercising the validators.
  assert.ok(outcomes.parsed > 100 && outcomes.rejected > 100, JSON.stringify(outcomes));
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});
