/**
 * A build task in a process of its own (see run-task.ts): a batch's layer task (one engine
 * build per process, as the engine's storage guards require), or, for a user other than
 * root, every task, started as root of a user namespace. Argument: a ChildTask as JSON.
 * Exit status 0 when the task succeeded; its errors are printed as the engine formats them.
 */
import { runChildMain } from '../child-process';
import { withSignals } from './executor';
import type { BuildExecutorOptions } from './options';
import { createReporter } from './reporter';
import { runBuild } from './run-build';

/** What the parent passes (run-task.ts); `verbose` is already resolved. */
export interface ChildTask {
  options: BuildExecutorOptions;
  workspaceRoot: string;
  verbose: boolean;
}

async function main(): Promise<number> {
  const { options, workspaceRoot, verbose } = JSON.parse(process.argv[2] ?? '{}') as ChildTask;
  const reporter = createReporter({ workspaceRoot, verbose });
  const ok = await withSignals((signal) =>
    runBuild({ options, workspaceRoot, verbose, reporter, signal }),
  );
  return ok ? 0 : 1;
}

runChildMain(main);
