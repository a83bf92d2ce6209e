import { StackerError } from '../errors';
import type { Layer, SourcePos, StackerFile } from '../parse/types';

/** A layer together with the layers it needs built first (same file or prerequisites). */
export interface PlannedLayer {
  layer: Layer;
  /** Names of layers that must be built before this one. */
  needs: string[];
}

/** The files of a build in the order they are built, each with its layers in build order. */
export interface BuildPlan {
  files: { file: StackerFile; layers: PlannedLayer[] }[];
}

/**
 * Orders files by `config.prerequisites` (prerequisites first) and the layers of each file so
 * that a layer comes after its `built` parent, its `stacker://` import sources and its
 * `stacker://` tar base. References may point into the same file or a prerequisite file
 * (transitively), as in stacker. Does not touch the disk.
 *
 * `roots` are the files the user asked for; every other file in `files` is only built because
 * something requires it.
 */
export function planBuild(files: Map<string, StackerFile>, roots: string[]): BuildPlan {
  const fileOrder = orderFiles(files, roots);
  const visible = visibleLayers(files, fileOrder);
  return {
    files: fileOrder.map((path) => {
      const file = files.get(path)!;
      return { file, layers: orderLayers(file, visible.get(path)!) };
    }),
  };
}

/** Layer names a stacker file may refer to: its own and its prerequisites', transitively. */
function visibleLayers(files: Map<string, StackerFile>, order: string[]): Map<string, Set<string>> {
  const visible = new Map<string, Set<string>>();
  for (const path of order) {
    const file = files.get(path)!;
    const names = new Set(file.layers.map((l) => l.name));
    for (const pre of file.prerequisites) {
      for (const name of visible.get(pre) ?? []) names.add(name);
    }
    visible.set(path, names);
  }
  return visible;
}

/** Depth-first topological sort of files; reports a cycle with the chain that makes it. */
function orderFiles(files: Map<string, StackerFile>, roots: string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();

  const visit = (path: string, chain: string[]) => {
    if (state.get(path) === 'done') return;
    if (state.get(path) === 'visiting') {
      const cycle = [...chain.slice(chain.indexOf(path)), path];
      throw new StackerError(
        `prerequisites make a cycle: ${cycle.join(' -> ')}`,
        { ...listing(files, chain[chain.length - 1], path), step: 'plan' },
        'remove one of these prerequisites: a stacker file cannot require itself',
      );
    }
    const file = files.get(path);
    if (!file) {
      throw new StackerError(
        `couldn't find prerequisite ${path}`,
        { file: chain[chain.length - 1], directive: 'config.prerequisites', step: 'plan' },
        'check the path; prerequisites are relative to the stacker file that lists them',
      );
    }
    state.set(path, 'visiting');
    for (const pre of [...file.prerequisites].sort()) visit(pre, [...chain, path]);
    state.set(path, 'done');
    order.push(path);
  };

  for (const root of roots) visit(root, []);
  return order;
}

/** Where `file` lists `prerequisite`: the file, and the line when it is known. */
function listing(files: Map<string, StackerFile>, file: string | undefined, prerequisite: string) {
  const listed = file === undefined ? undefined : files.get(file);
  const pos = listed?.prerequisitesPos?.[listed.prerequisites.indexOf(prerequisite)];
  return { file, ...pos, directive: 'config.prerequisites' };
}

/** What a layer waits for, as names, with a description of each for error messages. */
function dependenciesOf(layer: Layer): { name: string; what: string; pos?: SourcePos }[] {
  const deps: { name: string; what: string; pos?: SourcePos }[] = [];
  const { from } = layer;
  if (from.type === 'built' && from.tag) {
    deps.push({ name: from.tag, what: `base layer ${from.tag}`, pos: from.pos });
  }
  if (from.type === 'tar' && from.url?.startsWith('stacker://')) {
    deps.push({ name: stackerUrlLayer(from.url), what: from.url, pos: from.pos });
  }
  for (const imp of layer.imports) {
    if (imp.path.startsWith('stacker://')) {
      deps.push({ name: stackerUrlLayer(imp.path), what: imp.path, pos: imp.pos });
    }
  }
  return deps;
}

/** The layer named by `stacker://<layer>/<path>`. */
export function stackerUrlLayer(url: string): string {
  return url.slice('stacker://'.length).split('/')[0] ?? '';
}

/**
 * Orders one file's layers as stacker does: file order, with each layer put after what it
 * needs.
 * `visible` holds every name the file may refer to; names from prerequisite files count as
 * already built.
 */
function orderLayers(file: StackerFile, visible: Set<string>): PlannedLayer[] {
  const own = new Map(file.layers.map((l) => [l.name, l]));
  const placed = new Set<string>();
  const order: PlannedLayer[] = [];

  // Missing references are reported first, with where they are written.
  for (const layer of file.layers) {
    for (const dep of dependenciesOf(layer)) {
      if (!visible.has(dep.name)) {
        throw new StackerError(
          `couldn't find dependencies for ${layer.name}: ${dep.what}`,
          { file: file.path, ...(dep.pos ?? layer.pos), layer: layer.name, step: 'plan' },
          `no layer named '${dep.name}' in this file or its prerequisites; ` +
            'add the file that defines it to config.prerequisites, or fix the name',
        );
      }
    }
  }

  const place = (layer: Layer, chain: string[]) => {
    if (placed.has(layer.name)) return;
    if (chain.includes(layer.name)) {
      const cycle = [...chain.slice(chain.indexOf(layer.name)), layer.name];
      throw new StackerError(
        `layers depend on each other in a cycle: ${cycle.join(' -> ')}`,
        { file: file.path, ...layer.pos, layer: layer.name, step: 'plan' },
        'a layer cannot be built from, or import from, a layer that depends on it',
      );
    }
    const deps = dependenciesOf(layer);
    for (const dep of deps) {
      const target = own.get(dep.name);
      if (target) place(target, [...chain, layer.name]);
    }
    placed.add(layer.name);
    order.push({ layer, needs: [...new Set(deps.map((d) => d.name))] });
  };

  for (const layer of file.layers) place(layer, []);
  return inStackerOrder(order, own);
}

/**
 * Stacker's order for an acyclic file: passes over the file, each taking, in file order, the
 * layers whose layers in this file are already taken (`[a (built on c), b, c]` → b, c, a).
 */
function inStackerOrder(layers: PlannedLayer[], own: Map<string, Layer>): PlannedLayer[] {
  const taken = new Set<string>();
  const order: PlannedLayer[] = [];
  const fileOrder = [...own.keys()];
  const byName = new Map(layers.map((p) => [p.layer.name, p]));
  while (order.length < layers.length) {
    const before = order.length;
    for (const name of fileOrder) {
      const planned = byName.get(name);
      if (!planned || taken.has(name)) continue;
      if (planned.needs.every((n) => taken.has(n) || !own.has(n))) {
        taken.add(name);
        order.push(planned);
      }
    }
    if (order.length === before) throw new Error('layer order: a cycle slipped through');
  }
  return order;
}
