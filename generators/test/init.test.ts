import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readJson, readNxJson, type Tree, updateNxJson } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { FsTree } from 'nx/src/generators/tree';
import { OUTPUT_DIR, STATE_DIR } from '../../packages/nx-plugin/src/workspace/paths';
import { initGenerator } from '../init/generator';
import { IGNORED_PATHS } from '../shared/plugin';

const GENERATORS = join(__dirname, '..');

function emptyWorkspace(): Tree {
  return createTreeWithEmptyWorkspace({ formatter: 'none' });
}

/** Runs init twice, as `nx add` followed by a manual `nx g nx-stacker:init` would. */
async function initTwice(tree: Tree, options = {}): Promise<void> {
  await initGenerator(tree, options);
  await initGenerator(tree, options);
}

function pluginEntries(tree: Tree): unknown[] {
  return (readNxJson(tree)?.plugins ?? []).filter((entry) => {
    const name = typeof entry === 'string' ? entry : entry.plugin;
    return name.startsWith('nx-stacker');
  });
}

describe('init: nx.json', () => {
  test('registers the plugin once however often it runs, keeping the rest', async () => {
    const tree = emptyWorkspace();
    const before = readNxJson(tree);
    await initTwice(tree);

    assert.deepEqual(pluginEntries(tree), [{ plugin: 'nx-stacker', options: {} }]);
    assert.deepEqual(readNxJson(tree)?.targetDefaults, before?.targetDefaults);
  });

  test('adds the plugin after the plugins already registered', async () => {
    const tree = emptyWorkspace();
    updateNxJson(tree, { plugins: ['@nx/js/typescript'] });
    await initGenerator(tree, {});

    assert.deepEqual(readNxJson(tree)?.plugins, [
      '@nx/js/typescript',
      { plugin: 'nx-stacker', options: {} },
    ]);
  });

  test('leaves a registration in string form alone', async () => {
    const tree = emptyWorkspace();
    updateNxJson(tree, { plugins: ['nx-stacker'] });
    await initTwice(tree);

    assert.deepEqual(readNxJson(tree)?.plugins, ['nx-stacker']);
  });

  test('leaves a registration in object form, with its options and include, alone', async () => {
    const tree = emptyWorkspace();
    const entry = { plugin: 'nx-stacker', options: { layerPrefix: 'l-' }, include: ['images/**'] };
    updateNxJson(tree, { plugins: [entry] });
    await initTwice(tree);

    assert.deepEqual(readNxJson(tree)?.plugins, [entry]);
  });

  test('treats a registration through a subpath (nx-stacker/plugin) as present', async () => {
    const tree = emptyWorkspace();
    updateNxJson(tree, { plugins: [{ plugin: 'nx-stacker/plugin' }] });
    await initGenerator(tree, {});

    assert.deepEqual(readNxJson(tree)?.plugins, [{ plugin: 'nx-stacker/plugin' }]);
  });

  test('creates nx.json when the workspace has none', async () => {
    const tree = emptyWorkspace();
    tree.delete('nx.json');
    await initGenerator(tree, {});

    assert.deepEqual(readNxJson(tree)?.plugins, [{ plugin: 'nx-stacker', options: {} }]);
  });
});

describe('init: .gitignore', () => {
  test('appends .nx-stacker/ and dist/stacker/ once, after the existing lines', async () => {
    const tree = emptyWorkspace();
    tree.write('.gitignore', 'node_modules\n.nx');
    await initTwice(tree);

    assert.equal(
      tree.read('.gitignore', 'utf-8'),
      'node_modules\n.nx\n\n' +
        '# nx-stacker: engine state and built images\n.nx-stacker/\ndist/stacker/\n',
    );
  });

  test('does not add dist/stacker/ when all of dist is ignored already', async () => {
    for (const rule of ['dist', '/dist', 'dist/', '/dist/stacker']) {
      const tree = emptyWorkspace();
      tree.write('.gitignore', `${rule}\n`);
      await initGenerator(tree, {});

      const lines = (tree.read('.gitignore', 'utf-8') ?? '').split('\n');
      assert.ok(lines.includes('.nx-stacker/'), rule);
      assert.ok(!lines.includes('dist/stacker/'), `'${rule}' should cover dist/stacker/`);
    }
  });

  test('keeps CRLF line endings', async () => {
    const tree = emptyWorkspace();
    tree.write('.gitignore', 'node_modules\r\n');
    await initGenerator(tree, {});

    const text = tree.read('.gitignore', 'utf-8') ?? '';
    assert.ok(text.endsWith('.nx-stacker/\r\ndist/stacker/\r\n'));
    assert.ok(!/[^\r]\n/.test(text), 'every line ends in CRLF');
  });

  test('ignores exactly the dirs the plugin writes', () => {
    assert.deepEqual(IGNORED_PATHS, [`${STATE_DIR}/`, `${OUTPUT_DIR}/`]);
  });

  test('creates a .gitignore with the entries when the workspace has none', async () => {
    const tree = emptyWorkspace();
    tree.delete('.gitignore');
    await initGenerator(tree, {});

    assert.equal(
      tree.read('.gitignore', 'utf-8'),
      '# nx-stacker: engine state and built images\n.nx-stacker/\ndist/stacker/\n',
    );
  });
});

describe('init: package.json', () => {
  const version = JSON.parse(readFileSync(join(GENERATORS, '..', 'package.json'), 'utf8')).version;

  test('adds nx-stacker to devDependencies at the running package version', async () => {
    const tree = emptyWorkspace();
    await initTwice(tree);

    const manifest = readJson(tree, 'package.json');
    assert.equal(manifest.devDependencies['nx-stacker'], version);
    assert.equal(manifest.dependencies['nx-stacker'], undefined);
  });

  test('never changes an existing nx-stacker entry, such as a file: link', async () => {
    for (const field of ['dependencies', 'devDependencies']) {
      const tree = emptyWorkspace();
      tree.write('package.json', JSON.stringify({ [field]: { 'nx-stacker': 'file:../stacker' } }));
      await initGenerator(tree, { keepExistingVersions: false });

      assert.deepEqual(readJson(tree, 'package.json'), {
        [field]: { 'nx-stacker': 'file:../stacker' },
      });
    }
  });

  test('adds nothing where nx-stacker is installed without being listed, or is the workspace', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'nx-stacker-init-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'node_modules/nx-stacker'), { recursive: true });
    writeFileSync(join(root, 'node_modules/nx-stacker/package.json'), '{"name":"nx-stacker"}');
    writeFileSync(join(root, 'package.json'), '{"name":"ws"}');
    const linked = new FsTree(root, false);
    await initGenerator(linked, { skipFormat: true });
    assert.deepEqual(readJson(linked, 'package.json'), { name: 'ws' });

    const self = emptyWorkspace();
    self.write('package.json', '{"name":"nx-stacker"}');
    await initGenerator(self, {});
    assert.deepEqual(readJson(self, 'package.json'), { name: 'nx-stacker' });
  });

  test('with skipPackageJson, leaves package.json alone', async () => {
    const tree = emptyWorkspace();
    const before = tree.read('package.json', 'utf-8');
    await initGenerator(tree, { skipPackageJson: true });

    assert.equal(tree.read('package.json', 'utf-8'), before);
  });

  test('declares the options `nx add` passes (it checks the schema first)', () => {
    const schema = JSON.parse(readFileSync(join(GENERATORS, 'init', 'schema.json'), 'utf8'));
    for (const option of [
      'skipFormat',
      'skipPackageJson',
      'keepExistingVersions',
      'updatePackageScripts',
    ]) {
      assert.equal(schema.properties[option]?.type, 'boolean', option);
    }
  });
});
