/**
 * `nx-stacker:build`: the executor behind every target the plugin infers. It builds one
 * layer (option `layer`) or a whole stacker file; see run-build.ts. Nx runs it in a process
 * of its own per task, or, in batch mode, every ready task at once through batch.ts. A user
 * other than root builds in a user namespace (run-task.ts), its output streamed as it comes.
 */
import type { ExecutorContext } from '@nx/devkit';
import type { BuildExecutorOptions } from './options';
import { runTask } from './run-task';

export default async function runExecutor(
  options: BuildExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const verbose = options.verbose ?? isVerbose(context);
  return withSignals(async (signal) => ({
    success: await runTask({ options, workspaceRoot: context.root, verbose, signal }),
  }));
}

/** Whether Nx runs with `--verbose` (batch processes learn it from the environment only). */
export function isVerbose(context: Pick<ExecutorContext, 'isVerbose'>): boolean {
  return context.isVerbose === true || process.env.NX_VERBOSE_LOGGING === 'true';
}

/** Runs `fn` with a signal that aborts on SIGINT or SIGTERM (Nx stops tasks with those). */
export async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
