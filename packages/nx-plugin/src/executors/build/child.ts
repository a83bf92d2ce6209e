/**
 * A batch's layer task in a process of its own (see batch.ts): one engine build per process,
 * as the engine's storage guards require. Argument: JSON `{ options, workspaceRoot, verbose }`.
 * Exit status 0 when the task succeeded.
 */
import { withSignals } from './executor';
import type { BuildExecutorOptions } from './options';
import { createReporter } from './reporter';
import { runBuild } from './run-build';

async function main(): Promise<number> {
  const { options, workspaceRoot, verbose } = JSON.parse(process.argv[2] ?? '{}') as {
    options: BuildExecutorOptions;
    workspaceRoot: string;
    verbose: boolean;
  };
  const reporter = createReporter({ workspaceRoot, verbose: options.verbose ?? verbose });
  const ok = await withSignals((signal) =>
    runBuild({ options, workspaceRoot, verbose: options.verbose ?? verbose, reporter, signal }),
  );
  return ok ? 0 : 1;
}

// Exit explicitly once the output is flushed, as Nx does after an executor: the engine may
// keep idle handles (worker threads) that would otherwise hold the process open.
const exit = (code: number) => process.stdout.write('', () => process.exit(code));
main().then(exit, (err: unknown) => {
  process.stderr.write(
    `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  exit(1);
});
