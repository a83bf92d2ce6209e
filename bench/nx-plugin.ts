/**
 * Benchmarks of the Nx plugin (not timed tests: they print figures and goals).
 *
 *   node --conditions=nx-stacker-source --import tsx bench/nx-plugin.ts [--only nodes,cached]
 *
 * nodes   the compiled plugin's createNodes (run `npm run build` first) over 200 generated
 *         stacker files (3 layers each, one import each): the cold call (every file parsed)
 *         and a warm one (nothing changed; Nx calls createNodes on every project-graph
 *         computation, and the plugin keeps what it parsed while files are unchanged).
 *         Goal: under 300 ms.
 * cached  `nx run-many -t build` over 10 images of 5 layers (50 layer tasks), every layer
 *         already in Nx's local cache, in a workspace that installed the plugin from this
 *         repository. Wall time of the whole command. Goal: under 3 s. Needs root (the
 *         first, uncached run builds the layers).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStackerWorkspace } from '../e2e/fixtures/stacker-workspace';

const NODES_GOAL_MS = 300;
const CACHED_GOAL_MS = 3000;

interface Result {
  what: string;
  ms: number;
  goal?: number;
}

/** createNodes, cold and warm, on 200 generated files. */
async function benchNodes(): Promise<Result[]> {
  const started = performance.now();
  // The compiled plugin, as Nx loads it in a user's workspace (`npm run build` makes it).
  // Timed: loading is paid once per Nx plugin worker, i.e. once per Nx command.
  const { createNodes } = require(
    join(__dirname, '..', 'packages', 'nx-plugin', 'dist', 'index.js'),
  ) as typeof import('../packages/nx-plugin/src/index');
  const loaded = performance.now() - started;

  const root = mkdtempSync(join(tmpdir(), 'nx-stacker-bench-nodes-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < 200; i++) {
      const dir = join(root, 'images', `image-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'stacker.yaml'), generatedFile(i));
      writeFileSync(join(dir, 'app.conf'), `image ${i}\n`);
      files.push(`images/image-${i}/stacker.yaml`);
    }
    const context = { nxJsonConfiguration: {}, workspaceRoot: root };
    const time = async () => {
      const t0 = performance.now();
      const results = await createNodes[1](files, {}, context);
      if (results.length !== files.length) throw new Error('createNodes lost files');
      return performance.now() - t0;
    };
    const cold = await time();
    const warm = await time();
    return [
      { what: 'load the plugin module (once per Nx plugin worker)', ms: loaded },
      { what: 'createNodes, 200 files, cold', ms: cold, goal: NODES_GOAL_MS },
      { what: 'createNodes, 200 files, warm (no file changed)', ms: warm, goal: NODES_GOAL_MS },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function generatedFile(i: number): string {
  return [
    `base-${i}:`,
    '  from:',
    '    type: scratch',
    `  run: echo base ${i}`,
    `app-${i}:`,
    '  from:',
    '    type: built',
    `    tag: base-${i}`,
    '  imports:',
    '    - app.conf',
    '  environment:',
    `    IMAGE: "${i}"`,
    `  run: cp /stacker/imports/app.conf /etc/app.conf`,
    `tools-${i}:`,
    '  from:',
    '    type: built',
    `    tag: base-${i}`,
    '  build_only: true',
    '  run: echo tools',
    '',
  ].join('\n');
}

/** `nx run-many -t build` over 50 cached layers. */
function benchCached(): Result[] {
  if (process.geteuid?.() !== 0) throw new Error('the cached run-many benchmark needs root');
  const cleanups: (() => void)[] = [];
  try {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`images/img-${i}/stacker.yaml`] = chainFile(i, 5);
    const ws = createStackerWorkspace({ after: (fn) => cleanups.push(fn) }, files);
    ws.nxOk(['run-many', '-t', 'build']);

    const runs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const output = ws.nxOk(['run-many', '-t', 'build']);
      runs.push(performance.now() - t0);
      if (!/Cache: +51\/61 hit/.test(output)) {
        throw new Error(`expected 50 cached layers (+1 base, 10 builds):\n${output}`);
      }
    }
    runs.sort((a, b) => a - b);
    return [
      {
        what: 'nx run-many -t build, 50 cached layers + 10 assemblies (median of 3)',
        ms: runs[1] as number,
        goal: CACHED_GOAL_MS,
      },
    ];
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}

function chainFile(image: number, layers: number): string {
  const lines: string[] = [];
  for (let l = 0; l < layers; l++) {
    lines.push(`l${l}:`, '  from:');
    if (l === 0) lines.push('    type: oci', '    url: ../../base/oci:busybox');
    else lines.push('    type: built', `    tag: l${l - 1}`);
    lines.push(`  run: echo ${image}-${l} > /layer-${l}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string', default: 'nodes,cached' } } });
  const only = (values.only ?? '').split(',');
  const results: Result[] = [];
  if (only.includes('nodes')) results.push(...(await benchNodes()));
  if (only.includes('cached')) results.push(...benchCached());

  for (const r of results) {
    const met = r.goal !== undefined && r.ms < r.goal ? 'met' : 'NOT met';
    const goal = r.goal === undefined ? '' : ` (goal < ${r.goal} ms: ${met})`;
    console.log(`${r.what}: ${r.ms.toFixed(0)} ms${goal}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
