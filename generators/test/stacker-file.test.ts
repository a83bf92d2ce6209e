import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parseStackerText, type StackerFile } from '@nx-stacker/engine';
import { stackerFileGenerator } from '../stacker-file/generator';
import type { StackerFileGeneratorSchema } from '../stacker-file/schema';

const FILE = 'images/web/stacker.yaml';

function emptyWorkspace(): Tree {
  return createTreeWithEmptyWorkspace({ formatter: 'none' });
}

/** The file as the engine reads it (tree paths are under /virtual). */
function parsed(tree: Tree, file = FILE): StackerFile {
  const text = tree.read(file, 'utf-8');
  assert.ok(text !== null, `${file} exists`);
  return parseStackerText(text, `/virtual/${file}`, { substitutions: [] });
}

function generate(tree: Tree, options: Partial<StackerFileGeneratorSchema>): Promise<void> {
  return stackerFileGenerator(tree, { directory: 'images/web', ...options });
}

describe('stacker-file: a new file', () => {
  test('has one scratch layer named after the directory, and the engine parses it', async () => {
    const tree = emptyWorkspace();
    await generate(tree, {});

    const file = parsed(tree);
    assert.deepEqual(
      file.layers.map((l) => [l.name, l.from.type]),
      [['web', 'scratch']],
    );
    assert.match(tree.read(FILE, 'utf-8') ?? '', /^# Stacker file for images\/web/);
  });

  test('writes the base, imports and run script as given', async () => {
    const tree = emptyWorkspace();
    await generate(tree, {
      layer: 'app',
      baseType: 'oci',
      baseUrl: '../base/oci:busybox',
      imports: ['hello.sh', 'conf/'],
      run: 'cp /stacker/imports/hello.sh /usr/bin/hello\nchmod +x /usr/bin/hello',
    });

    const [layer] = parsed(tree).layers;
    assert.equal(layer?.name, 'app');
    assert.deepEqual(layer?.from, {
      type: 'oci',
      url: '/virtual/images/base/oci:busybox',
      insecure: false,
      pos: layer?.from.pos,
    });
    assert.deepEqual(
      layer?.imports.map((i) => i.path),
      ['/virtual/images/web/hello.sh', '/virtual/images/web/conf/'],
    );
    assert.equal(
      layer?.run.join('\n'),
      'cp /stacker/imports/hello.sh /usr/bin/hello\nchmod +x /usr/bin/hello\n',
    );
    assert.match(tree.read(FILE, 'utf-8') ?? '', /\n {2}run: \|\n {4}cp /);
  });

  test('quotes values that YAML 1.1 (the engine) would read as booleans or numbers', async () => {
    const tree = emptyWorkspace();
    await generate(tree, { layer: 'yes', imports: ['on', '0755', 'no'] });

    const [layer] = parsed(tree).layers;
    assert.equal(layer?.name, 'yes');
    assert.deepEqual(
      layer?.imports.map((i) => i.path),
      ['/virtual/images/web/on', '/virtual/images/web/0755', '/virtual/images/web/no'],
    );
  });

  test('for docker and tar bases writes the url, for built the tag', async () => {
    const cases: [Partial<StackerFileGeneratorSchema>, object][] = [
      [{ baseType: 'docker', baseUrl: 'docker://alpine:3.20' }, { url: 'docker://alpine:3.20' }],
      [
        { baseType: 'tar', baseUrl: 'https://example.org/r.tar' },
        { url: 'https://example.org/r.tar' },
      ],
    ];
    for (const [options, expected] of cases) {
      const tree = emptyWorkspace();
      await generate(tree, options);
      const [layer] = parsed(tree).layers;
      assert.equal(layer?.from.type, options.baseType);
      assert.deepEqual(
        { url: layer?.from.url, tag: layer?.from.tag },
        { url: undefined, tag: undefined, ...expected },
      );
    }
  });

  test('a built base must be a layer of the file, unless it lists prerequisites', async () => {
    const tree = emptyWorkspace();
    await assert.rejects(
      generate(tree, { layer: 'app', baseType: 'built', baseTag: 'base' }),
      /no layer 'base' to build on in images\/web\/stacker\.yaml[\s\S]*config\.prerequisites/,
    );
    assert.equal(tree.exists(FILE), false, 'nothing written');

    await generate(tree, { layer: 'base' });
    await generate(tree, { layer: 'app', baseType: 'built', baseTag: 'base' });
    assert.equal(parsed(tree).layers[1]?.from.tag, 'base');

    const other = 'images/api/stacker.yaml';
    tree.write(other, 'config:\n  prerequisites:\n    - ../web/stacker.yaml\n');
    await generate(tree, {
      directory: 'images/api',
      layer: 'api',
      baseType: 'built',
      baseTag: 'app',
    });
    assert.match(tree.read(other, 'utf-8') ?? '', /tag: app/);
  });

  test('running twice with the same options changes nothing', async () => {
    const tree = emptyWorkspace();
    const options = { layer: 'app', imports: ['a.txt'], run: 'true' };
    await generate(tree, options);
    const first = tree.read(FILE, 'utf-8');
    await generate(tree, options);

    assert.equal(tree.read(FILE, 'utf-8'), first);
    assert.equal(parsed(tree).layers.length, 1);
  });

  test('at the workspace root needs an explicit layer name', async () => {
    const tree = emptyWorkspace();
    await assert.rejects(generate(tree, { directory: '.' }), /no layer name given[\s\S]*--layer/);
    await generate(tree, { directory: '.', layer: 'root' });
    assert.deepEqual(
      parsed(tree, 'stacker.yaml').layers.map((l) => l.name),
      ['root'],
    );
  });
});

/** A hand-written file: comments everywhere, 4-space indents, an unindented list. */
const EXISTING = `# Our base image.
base:   # the first layer
    from:
        type: oci
        url: ../busybox/oci:busybox
    imports:
    - motd      # shown at login
    run: |
        cp /stacker/imports/motd /etc/motd

# end of layers`;

describe('stacker-file: adding to an existing file', () => {
  test('appends the layer and keeps every byte already in the file', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, EXISTING);
    await generate(tree, { layer: 'app', run: 'echo app' });

    const text = tree.read(FILE, 'utf-8') ?? '';
    assert.ok(text.startsWith(`${EXISTING}\n`), text);
    assert.deepEqual(
      parsed(tree).layers.map((l) => l.name),
      ['base', 'app'],
    );
  });

  test('builds the new layer on the last layer of the file by default', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, EXISTING);
    await generate(tree, { layer: 'app' });
    await generate(tree, { layer: 'app2' });

    const layers = parsed(tree).layers;
    assert.deepEqual(
      layers.map((l) => [l.name, l.from.type, l.from.tag]),
      [
        ['base', 'oci', undefined],
        ['app', 'built', 'base'],
        ['app2', 'built', 'app'],
      ],
    );
  });

  test('ignores the config key when choosing the layer to build on', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, `base:\n  from:\n    type: scratch\nconfig:\n  prerequisites: []\n`);
    await generate(tree, { layer: 'app' });

    const app = parsed(tree).layers.find((l) => l.name === 'app');
    assert.equal(app?.from.tag, 'base');
  });

  test('refuses a taken layer name, naming the line, and leaves the file alone', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, EXISTING);
    await assert.rejects(generate(tree, { layer: 'base', run: 'echo other' }), (err: Error) => {
      assert.match(err.message, /^images\/web\/stacker\.yaml:2:1: layer 'base' already exists/);
      assert.match(err.message, /hint: choose another --layer name/);
      return true;
    });
    assert.equal(tree.read(FILE, 'utf-8'), EXISTING);
  });

  test('keeps a CRLF file CRLF', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, 'base:\r\n  from:\r\n    type: scratch\r\n');
    await generate(tree, { layer: 'app', run: 'a\nb' });

    const text = tree.read(FILE, 'utf-8') ?? '';
    assert.ok(!/[^\r]\n/.test(text), JSON.stringify(text));
    assert.deepEqual(
      parsed(tree).layers.map((l) => l.name),
      ['base', 'app'],
    );
  });

  test('adds to a file written as one flow map by rewriting it, keeping its comment', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, '# flow style\n{base: {from: {type: scratch}}}\n');
    await generate(tree, { layer: 'app' });

    assert.match(tree.read(FILE, 'utf-8') ?? '', /^# flow style\n/);
    assert.deepEqual(
      parsed(tree).layers.map((l) => [l.name, l.from.type]),
      [
        ['base', 'scratch'],
        ['app', 'built'],
      ],
    );
  });

  test('adds to a file with only comments', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, '# nothing yet\n');
    await generate(tree, { layer: 'first' });

    assert.match(tree.read(FILE, 'utf-8') ?? '', /^# nothing yet\n\nfirst:\n/);
    assert.equal(parsed(tree).layers[0]?.from.type, 'scratch');
  });

  test('refuses to touch a file that is not valid YAML, naming the place', async () => {
    const tree = emptyWorkspace();
    const broken = 'base:\n  from: {type: scratch\n';
    tree.write(FILE, broken);
    await assert.rejects(
      generate(tree, { layer: 'app' }),
      /images\/web\/stacker\.yaml:3:1: cannot read the existing stacker file: Flow map/,
    );
    assert.equal(tree.read(FILE, 'utf-8'), broken);
  });

  test('refuses a file whose top level is not a map of layers', async () => {
    const tree = emptyWorkspace();
    tree.write(FILE, '- a\n- b\n');
    await assert.rejects(generate(tree, { layer: 'app' }), /expected a map of layer names/);
  });
});

describe('stacker-file: refused options', () => {
  const refused: [string, Partial<StackerFileGeneratorSchema>, RegExp][] = [
    ['the reserved name config', { layer: 'config' }, /'config' cannot be a layer name/],
    ['a name with a colon', { layer: 'app:v1' }, /contains ':'[\s\S]*hint: use '-' or '_'/],
    ['a name with a space', { layer: 'my app' }, /not a valid OCI reference name/],
    ['a name starting with a dash', { layer: '-app' }, /not a valid OCI reference name/],
    ['a name with an empty path segment', { layer: 'a//b' }, /not a valid OCI reference name/],
    ['an oci base without url', { baseType: 'oci' }, /baseType 'oci' needs --baseUrl/],
    ['an oci url without tag', { baseType: 'oci', baseUrl: '../oci' }, /names no tag/],
    ['a docker url without transport', { baseType: 'docker', baseUrl: 'alpine' }, /no transport/],
    ['a tar base without url', { baseType: 'tar' }, /baseType 'tar' needs --baseUrl/],
    ['a built base without tag', { baseType: 'built' }, /'built' needs the layer to build on/],
    ['a layer built on itself', { layer: 'a', baseTag: 'a', baseType: 'built' }, /on itself/],
    ['a url for scratch', { baseType: 'scratch', baseUrl: 'x:y' }, /--baseUrl is not used/],
    ['a tag for oci', { baseType: 'oci', baseUrl: 'o:t', baseTag: 'x' }, /--baseTag is only/],
    ['a directory outside the workspace', { directory: '../elsewhere' }, /outside the workspace/],
    ['an absolute directory', { directory: '/etc' }, /outside the workspace/],
  ];
  for (const [what, options, message] of refused) {
    test(`refuses ${what} and writes nothing`, async () => {
      const tree = emptyWorkspace();
      const changesBefore = tree.listChanges().length;
      await assert.rejects(generate(tree, options), message);
      assert.equal(tree.listChanges().length, changesBefore);
    });
  }

  test('accepts the OCI name forms stacker accepts', async () => {
    const tree = emptyWorkspace();
    for (const layer of ['a', 'app.v1', 'app_v1', 'a--b', 'a+b', 'a@b', 'team/app-1']) {
      await generate(tree, { layer, baseType: 'scratch' });
    }
    assert.equal(parsed(tree).layers.length, 7);
  });
});
