/**
 * A publish task in a process of its own, started as root of a user namespace for a user
 * other than root (see executor.ts). Argument: a PublishChildTask as JSON; the registry
 * password comes from the inherited environment, never from the argument. Exit status 0
 * when the task succeeded.
 */

import { withSignals } from '../build/executor';
import { createReporter } from '../build/reporter';
import { runChildMain } from '../child-process';
import { redacting, secretsIn } from './executor';
import type { PublishExecutorOptions } from './options';
import { runPublish } from './run-publish';

/** What the executor passes; `verbose` is already resolved. */
export interface PublishChildTask {
  options: PublishExecutorOptions;
  projectName: string;
  workspaceRoot: string;
  verbose: boolean;
}

async function main(): Promise<number> {
  const task = JSON.parse(process.argv[2] ?? '{}') as PublishChildTask;
  const env = process.env;
  const reporter = createReporter({
    workspaceRoot: task.workspaceRoot,
    verbose: task.verbose,
    sink: redacting(secretsIn(task.options, env)),
  });
  const ok = await withSignals((signal) => runPublish({ ...task, env, reporter, signal }));
  return ok ? 0 : 1;
}

runChildMain(main);
