/**
 * nx-stacker benchmarks against the tools stacker relies on (see docs/benchmarks.md).
 *
 *   npm run bench [-- --runs N] [--only pack,extract,build,runner]
 *
 * Generates its data once under bench/.data (a Debian minbase rootfs from the mirror apt
 * uses, and a synthetic ~200 MB change), measures ours and the reference tools in the same
 * run, round-robin, and prints one table (best of N runs): measurement, ours, reference,
 * ratio, goal, met?.
 * Needs root (containers, device nodes), `npm run build` (the CLI is run from dist/) and the
 * packages scripts/setup.sh installs.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCases } from './cases/build';
import { extractCases } from './cases/extract';
import { packCases } from './cases/pack';
import { runnerCases } from './cases/runner';
import { benchData } from './lib/data';
import { markdownTable, type Row } from './lib/table';
import { hasProgram } from './lib/timing';

const ROOT = join(__dirname, '..');
const SUITES = { pack: packCases, extract: extractCases, build: buildCases, runner: runnerCases };
const TOOLS = ['debootstrap', 'umoci', 'pigz', 'gzip', 'tar', 'lxc-execute'];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, only: { type: 'string' } },
  });
  const runs = Number(values.runs);
  const only = values.only?.split(',') ?? Object.keys(SUITES);
  const unknown = only.filter((s) => !(s in SUITES));
  if (!Number.isInteger(runs) || runs < 1 || unknown.length > 0) {
    console.error(`usage: npm run bench [-- --runs N] [--only ${Object.keys(SUITES).join(',')}]`);
    return 2;
  }
  preflight();

  const log = (m: string) => console.error(`bench: ${m}`);
  log(
    `${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(2)}, Linux ${release()}, ` +
      `node ${process.versions.node}, zlib ${process.versions.zlib}, best of ${runs} runs`,
  );
  if (loadavg()[0]! > 0.5) log('warning: the machine is busy; figures will be noisy');
  const data = await benchData(join(ROOT, 'bench', '.data'), log);
  log(`data: ${data.mirror.url} ${data.mirror.suite}; change: ${data.change.count} files`);

  const rows: Row[] = [];
  for (const name of only) {
    log(`measuring ${name}`);
    const suite = SUITES[name as keyof typeof SUITES];
    rows.push(...(await suite(data, join(ROOT, 'bench', '.data', 'work'), runs)));
  }

  console.log(markdownTable(rows));
  const missed = rows.filter((r) => r.met === false);
  console.log(
    missed.length === 0
      ? '\nall goals met'
      : `\ngoals not met: ${missed.map((r) => `${r.measurement} vs ${r.reference}`).join('; ')}`,
  );
  // Missed goals are reported, not an error: the figures depend on the machine and its load.
  return 0;
}

/** Stops early, with what to do, when something the bench needs is missing. */
function preflight(): void {
  if (process.geteuid?.() !== 0) throw new Error('the bench needs root (containers, mknod)');
  const missing = TOOLS.filter((t) => !hasProgram(t));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run scripts/setup.sh`);
  const dists = ['engine', 'cli'].map((p) => join(ROOT, 'packages', p, 'dist'));
  if (!dists.every(existsSync)) throw new Error('the CLI is not built: run npm run build');
  // tsc -b rewrites only what changed, so compare the newest source with the newest output.
  const engine = join(ROOT, 'packages', 'engine');
  if (newest(join(engine, 'src')) > newest(join(engine, 'dist'))) {
    console.error('bench: warning: engine sources are newer than dist/; run npm run build');
  }
}

/** The newest mtime of the files under `dir`. */
function newest(dir: string): number {
  let time = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    time = Math.max(time, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
