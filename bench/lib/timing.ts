import { execFileSync, spawnSync } from 'node:child_process';

/** One measured operation: wall-clock seconds of each run, in order. */
export interface Timing {
  runs: number[];
}

/**
 * The figure the table shows for a timing: its fastest run. On a machine shared with other
 * work, interference only ever adds time, so the fastest of several runs is the best
 * estimate of what the operation itself costs (all runs are printed with BENCH_VERBOSE=1).
 */
export function best(t: Timing): number {
  return Math.min(...t.runs);
}

/**
 * Runs `fn` `runs` times, calling `prepare` (not timed) before each run, and returns the
 * wall-clock time of each run. The first run is not discarded: every input is already in the
 * page cache when measuring starts, because generating or checking the data read it.
 */
export async function measure(opts: {
  runs: number;
  prepare?: () => void | Promise<void>;
  fn: () => void | Promise<void>;
}): Promise<Timing> {
  const runs: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    await opts.prepare?.();
    const started = performance.now();
    await opts.fn();
    runs.push((performance.now() - started) / 1000);
  }
  return { runs };
}

/** A measured operation; `prepare` runs before each timed call and is not timed. */
export interface Case {
  name: string;
  prepare?: () => void | Promise<void>;
  fn: () => void | Promise<void>;
}

/**
 * Measures several operations round-robin (all once, then all again, ...) so a change in
 * the machine's load during the run (other jobs, page cache) affects them alike. A first,
 * untimed round puts every case in the state the others leave behind (the first case would
 * otherwise be the only one that starts without a previous run's files to delete). Returns
 * the timings by case name.
 */
export async function measureRounds(runs: number, cases: Case[]): Promise<Map<string, Timing>> {
  const timings = new Map<string, Timing>(cases.map((c) => [c.name, { runs: [] }]));
  for (let i = -1; i < runs; i++) {
    for (const c of cases) {
      const [seconds] = (await measure({ runs: 1, prepare: c.prepare, fn: c.fn })).runs;
      if (i >= 0) timings.get(c.name)!.runs.push(seconds!);
      if (process.env.BENCH_VERBOSE) {
        console.error(`bench:   ${c.name}: ${seconds!.toFixed(3)} s${i < 0 ? ' (warm-up)' : ''}`);
      }
    }
  }
  return timings;
}

/** Runs a shell command line (bash, pipefail) and fails loudly with its stderr. */
export function sh(script: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    throw new Error(`command failed (${r.status ?? r.signal}): ${script}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Runs a program without a shell; returns stdout. */
export function run(file: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(file, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Whether a program is on PATH. */
export function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A size in MB (10^6 bytes), as the reference figures are given. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}
