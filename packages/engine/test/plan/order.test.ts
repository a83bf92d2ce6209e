import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StackerError } from '../../src/errors';
import type { Layer, StackerFile } from '../../src/parse/types';
import { planBuild } from '../../src/plan/order';
import { makeLayer } from '../layer-fixture';

function layer(name: string, file: string, from: Partial<Layer['from']>, imports: string[] = []) {
  return makeLayer({
    name,
    file,
    from: { type: 'scratch', insecure: false, ...from },
    imports: imports.map((path) => ({ path })),
  });
}

function file(path: string, layers: Layer[], prerequisites: string[] = []): StackerFile {
  return { path, dir: '/w', text: '', layers, prerequisites };
}

const names = (plan: ReturnType<typeof planBuild>) =>
  plan.files.map((f) => [f.file.path, f.layers.map((l) => l.layer.name)]);

test('orders layers as stacker does: passes over the file, each taking the layers that are ready', () => {
  const f = file('/w/a.yaml', [
    layer('child', '/w/a.yaml', { type: 'built', tag: 'parent' }),
    layer('other', '/w/a.yaml', {}),
    layer('parent', '/w/a.yaml', {}),
    layer('grandchild', '/w/a.yaml', { type: 'built', tag: 'child' }),
  ]);
  const plan = planBuild(new Map([[f.path, f]]), [f.path]);
  assert.deepEqual(names(plan), [['/w/a.yaml', ['other', 'parent', 'child', 'grandchild']]]);
});

test('orders layers after the layers their stacker:// imports read from', () => {
  const f = file('/w/a.yaml', [
    layer('b', '/w/a.yaml', {}, ['stacker://a/etc/file']),
    layer('a', '/w/a.yaml', {}),
  ]);
  const plan = planBuild(new Map([[f.path, f]]), [f.path]);
  assert.deepEqual(names(plan), [['/w/a.yaml', ['a', 'b']]]);
  assert.deepEqual(plan.files[0]?.layers[1]?.needs, ['a']);
});

test('builds prerequisite files first and lets layers build on their layers', () => {
  const base = file('/w/base.yaml', [layer('base', '/w/base.yaml', {})]);
  const app = file(
    '/w/app.yaml',
    [layer('app', '/w/app.yaml', { type: 'built', tag: 'base' })],
    ['/w/base.yaml'],
  );
  const files = new Map([
    [app.path, app],
    [base.path, base],
  ]);
  assert.deepEqual(names(planBuild(files, [app.path])), [
    ['/w/base.yaml', ['base']],
    ['/w/app.yaml', ['app']],
  ]);
});

test('reports a prerequisite cycle with the chain of files', () => {
  const a = file('/w/a.yaml', [layer('a', '/w/a.yaml', {})], ['/w/b.yaml']);
  const b = file('/w/b.yaml', [layer('b', '/w/b.yaml', {})], ['/w/a.yaml']);
  const files = new Map([
    [a.path, a],
    [b.path, b],
  ]);
  assert.throws(
    () => planBuild(files, [a.path]),
    (err: unknown) =>
      err instanceof StackerError &&
      /cycle: \/w\/a\.yaml -> \/w\/b\.yaml -> \/w\/a\.yaml/.test(err.message),
  );
});

test('reports a layer cycle with the chain of layers', () => {
  const f = file('/w/a.yaml', [
    layer('x', '/w/a.yaml', { type: 'built', tag: 'y' }),
    layer('y', '/w/a.yaml', { type: 'built', tag: 'x' }),
  ]);
  assert.throws(
    () => planBuild(new Map([[f.path, f]]), [f.path]),
    (err: unknown) => err instanceof StackerError && /cycle: x -> y -> x/.test(err.message),
  );
});

test('reports a missing parent with where it is named and what to do', () => {
  const f = file('/w/a.yaml', [layer('x', '/w/a.yaml', { type: 'built', tag: 'nope' })]);
  assert.throws(
    () => planBuild(new Map([[f.path, f]]), [f.path]),
    (err: unknown) =>
      err instanceof StackerError &&
      err.message === "couldn't find dependencies for x: base layer nope" &&
      err.where.file === '/w/a.yaml' &&
      /prerequisites/.test(err.hint ?? ''),
  );
});

test('does not let a layer refer to a file that is not a prerequisite', () => {
  const other = file('/w/other.yaml', [layer('o', '/w/other.yaml', {})]);
  const f = file('/w/a.yaml', [layer('x', '/w/a.yaml', { type: 'built', tag: 'o' })]);
  const files = new Map([
    [f.path, f],
    [other.path, other],
  ]);
  assert.throws(() => planBuild(files, [f.path, other.path]), StackerError);
});
