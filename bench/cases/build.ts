import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_TAG, type BenchData, SOURCE_DATE_EPOCH } from '../lib/data';
import { absolute, check, type Row, seconds } from '../lib/table';
import { best, measureRounds, type Timing } from '../lib/timing';

const CLI = join(__dirname, '..', '..', 'packages', 'cli', 'bin', 'nx-stacker.js');
const CHAIN = 10;

/**
 * Whole builds through the CLI, as a user runs them (process start included), on the
 * Debian base, whose layer is extracted once before measuring:
 * - a one-layer file whose `run:` does nothing, with --no-cache and fully cached: the
 *   per-layer overhead of parse, plan, stack, runner, pack and write;
 * - a chain of 10 such layers (each writes one small file): full build, fully cached
 *   rebuild, and a one-line change in the top layer, which must rebuild exactly that layer.
 */
export async function buildCases(data: BenchData, work: string, runs: number) {
  const dir = join(work, 'build');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = `${data.ociDir}:${BASE_TAG}`;
  writeFileSync(
    join(dir, 'one.yaml'),
    `empty:\n  from:\n    type: oci\n    url: ${base}\n  run: "true"\n`,
  );
  writeFileSync(join(dir, 'ten.yaml'), chainFile(base, 'first'));
  cli(dir, ['build', '-f', 'one.yaml']);

  const t = await measureRounds(runs, [
    { name: 'empty-uncached', fn: () => void cli(dir, ['build', '-f', 'one.yaml', '--no-cache']) },
    { name: 'empty-cached', fn: () => expectDone(cli(dir, ['build', '-f', 'one.yaml']), 0, 1) },
  ]);
  const chain = await measureRounds(runs, [
    { name: 'full', fn: () => void cli(dir, ['build', '-f', 'ten.yaml', '--no-cache']) },
    {
      name: 'cached',
      fn: () => expectDone(cli(dir, ['build', '-f', 'ten.yaml']), 0, CHAIN),
    },
  ]);
  const edit = await oneLineChange(dir, base, runs);
  rmSync(dir, { recursive: true, force: true });

  const full = chain.get('full')!;
  const perLayer: Timing = { runs: full.runs.map((s) => s / CHAIN) };
  const rows: Row[] = [
    absolute({
      measurement: 'empty run step, 1-layer file, --no-cache (CLI)',
      ours: t.get('empty-uncached')!,
      maxSeconds: 0.5,
    }),
    absolute({ measurement: 'same file, fully cached (CLI)', ours: t.get('empty-cached')! }),
    absolute({
      measurement: `${CHAIN}-layer chain, full build, per layer (${seconds(best(full))} total)`,
      ours: perLayer,
      maxSeconds: 0.5,
    }),
    absolute({
      measurement: `${CHAIN}-layer chain, fully cached rebuild (CLI)`,
      ours: chain.get('cached')!,
      maxSeconds: 1,
    }),
    check({
      measurement: `one-line change in the top layer of ${CHAIN}`,
      ours: `${edit.rebuilt} rebuilt in ${seconds(best(edit.timing))}`,
      goal: 'exactly 1 layer',
      met: edit.ok,
    }),
  ];
  return rows;
}

/** Edits the top layer's run line before each run; every build must rebuild only it. */
async function oneLineChange(dir: string, base: string, runs: number) {
  let round = 0;
  let rebuilt = new Set<string>();
  let ok = true;
  const timing = (
    await measureRounds(runs, [
      {
        name: 'edit',
        prepare: () => writeFileSync(join(dir, 'ten.yaml'), chainFile(base, `edit-${round++}`)),
        fn: () => {
          const out = cli(dir, ['build', '-f', 'ten.yaml']);
          const built = [...out.matchAll(/^(\S+): building \(/gm)].map((m) => m[1]!);
          rebuilt = new Set([...rebuilt, ...built]);
          ok &&=
            built.length === 1 && built[0] === `l${CHAIN}` && /done: 1 built, 9 reused/.test(out);
        },
      },
    ])
  ).get('edit')!;
  return { timing, ok, rebuilt: ok ? `l${CHAIN} only` : [...rebuilt].join(', ') };
}

/** `l1` on the base, `l2`..`l10` each on the one before; `top` goes into the top layer. */
function chainFile(base: string, top: string): string {
  const layers = [];
  for (let i = 1; i <= CHAIN; i++) {
    const from =
      i === 1 ? `    type: oci\n    url: ${base}` : `    type: built\n    tag: l${i - 1}`;
    const text = i === CHAIN ? top : `layer ${i}`;
    layers.push(`l${i}:\n  from:\n${from}\n  run: echo ${text} > /layer-${i}\n`);
  }
  return layers.join('');
}

/** Runs the built CLI in `dir`; returns its stderr (the log); fails on a non-zero exit. */
function cli(dir: string, args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { ...process.env, SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`nx-stacker ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stderr;
}

function expectDone(log: string, built: number, reused: number): void {
  if (!log.includes(`done: ${built} built, ${reused} reused`)) {
    throw new Error(`expected ${built} built and ${reused} reused, got:\n${log}`);
  }
}
