/**
 * Batch mode of `nx-stacker:build` (executors.json: `batchImplementation`, `preferBatch`).
 *
 * Nx starts a process per task, and that costs about as much as assembling an image, so a
 * fully cached `nx run-many -t build` spends most of its time starting processes. In batch
 * mode Nx hands every ready task of this executor to one process, which runs them here in
 * dependency order:
 *
 * - whole-file tasks (assembling an image) run in this process, one at a time;
 * - layer tasks run in child processes, up to nx.json's `parallel` (default 3) at once:
 *   the engine guards shared storage per process (locks, the running-builds registry that
 *   keeps garbage collection away), so two engine builds must never share a process;
 * - for a user other than root, whole-file tasks too run in a child process, as root of a
 *   user namespace (run-task.ts), still one at a time.
 *
 * A task whose dependency failed is reported as failed without running. Each task's output
 * is captured and handed to Nx with its result, which shows it when the task completes (and
 * stores it with the task in the cache); `--batch=false` streams it as it comes instead.
 */
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { isVerbose, withSignals } from './executor';
import type { BuildExecutorOptions } from './options';
import { runTask } from './run-task';

/** What Nx expects for each task of a batch. */
export interface BatchTaskResult {
  success: boolean;
  terminalOutput: string;
  startTime: number;
  endTime: number;
}

type Outcome = { task: string; result: BatchTaskResult };

/** The batch implementation: yields each task's result as soon as it is known. */
export async function* batchBuild(
  taskGraph: TaskGraph,
  inputs: Record<string, BuildExecutorOptions>,
  overrides: { verbose?: boolean },
  context: ExecutorContext,
): AsyncGenerator<Outcome> {
  const limit = Math.max(1, Number(context.nxJsonConfiguration?.parallel ?? 3));
  const verbose = isVerbose(context) || overrides?.verbose === true;
  const deps = (id: string) =>
    (taskGraph.dependencies[id] ?? [])
      .map((d: string | { id: string }) => (typeof d === 'string' ? d : d.id))
      .filter((d) => d in taskGraph.tasks);

  const pending = new Set(Object.keys(taskGraph.tasks));
  const succeeded = new Set<string>();
  const running = new Map<string, Promise<Outcome>>();
  let inProcessBusy = false;

  while (pending.size > 0 || running.size > 0) {
    // Fail what can no longer run, start what can, then wait for one task to end.
    for (const id of [...pending]) {
      const failed = deps(id).find((d) => !pending.has(d) && !running.has(d) && !succeeded.has(d));
      if (failed === undefined) continue;
      pending.delete(id);
      yield { task: id, result: notRun(`not run: ${failed} failed`) };
    }
    for (const id of [...pending]) {
      if (!deps(id).every((d) => succeeded.has(d))) continue;
      const options = inputs[id] as BuildExecutorOptions;
      const inProcess = options.layer === undefined;
      if (inProcess ? inProcessBusy : childCount(running, inputs) >= limit) continue;
      pending.delete(id);
      if (inProcess) inProcessBusy = true;
      const run = runCaptured({
        options,
        workspaceRoot: context.root,
        verbose,
        ownProcess: !inProcess,
      });
      running.set(
        id,
        run.then((result) => ({ task: id, result })),
      );
    }
    if (running.size === 0) break;

    const done = await Promise.race(running.values());
    running.delete(done.task);
    if ((inputs[done.task] as BuildExecutorOptions).layer === undefined) inProcessBusy = false;
    if (done.result.success) succeeded.add(done.task);
    yield done;
  }
}

function childCount(running: Map<string, unknown>, inputs: Record<string, BuildExecutorOptions>) {
  return [...running.keys()].filter((id) => inputs[id]?.layer !== undefined).length;
}

/**
 * One task, its output captured: a whole-file task in this process, a layer task in a child
 * process (child.ts); for a user other than root, either in a user namespace (run-task.ts).
 */
async function runCaptured(args: {
  options: BuildExecutorOptions;
  workspaceRoot: string;
  verbose: boolean;
  ownProcess: boolean;
}): Promise<BatchTaskResult> {
  const startTime = Date.now();
  let output = '';
  const capture = (text: string | Buffer) => {
    output += text.toString();
  };
  const success = await withSignals((signal) =>
    runTask({
      ...args,
      verbose: args.options.verbose ?? args.verbose,
      sink: { out: capture, err: capture },
      signal,
    }),
  );
  return { success, terminalOutput: output, startTime, endTime: Date.now() };
}

function notRun(message: string): BatchTaskResult {
  const now = Date.now();
  return { success: false, terminalOutput: `${message}\n`, startTime: now, endTime: now };
}
