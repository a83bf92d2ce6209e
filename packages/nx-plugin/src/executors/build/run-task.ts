/**
 * Where one build task runs, whatever started it (the executor or a batch):
 *
 * - as root, in this process, or in a child process when the caller asks for one (a batch's
 *   layer tasks: one engine build per process, see batch.ts);
 * - as any other user, always in a child process started as root of a user namespace, as
 *   the CLI re-executes itself: extracting layers, mounting overlays and starting containers
 *   need root, which the namespace gives (the engine's rootless builds, docs/architecture.md).
 *
 * Before either, the workspace's engine storage must belong to whoever builds: root and
 * rootless builds cannot share it. The task's output goes to `sink` when one is given (a
 * batch captures it), else straight to this process's stdout and stderr.
 */
import { join } from 'node:path';
import { checkStorageOwner, isStackerError, needsUserNamespace, StackerError } from '../../engine';
import { engineDirs, STATE_DIR } from '../../workspace/paths';
import { rootOf } from '../../workspace/projects';
import { runScript } from '../child-process';
import type { ChildTask } from './child';
import type { BuildExecutorOptions } from './options';
import { createReporter, type Sink } from './reporter';
import { runBuild } from './run-build';

/** One task to run; `verbose` is already resolved from the options and Nx's flags. */
export interface TaskRun {
  options: BuildExecutorOptions;
  workspaceRoot: string;
  verbose: boolean;
  /** Where the task's output goes; default this process's stdout and stderr. */
  sink?: Sink;
  /** Run in a child process even as root. */
  ownProcess?: boolean;
  /** Aborting it stops the build (a child gets SIGTERM and cleans up). */
  signal: AbortSignal;
}

/** Runs one task (see the file comment); resolves to whether it succeeded. */
export async function runTask(run: TaskRun): Promise<boolean> {
  const reporter = createReporter({
    workspaceRoot: run.workspaceRoot,
    verbose: run.verbose,
    sink: run.sink,
  });
  const rootless = needsUserNamespace();
  try {
    checkStorage(run.workspaceRoot, run.options.stackerFile);
  } catch (err) {
    reporter.failure(err);
    return false;
  }
  if (!rootless && !run.ownProcess) return runBuild({ ...run, reporter });

  const task: ChildTask = {
    options: run.options,
    workspaceRoot: run.workspaceRoot,
    verbose: run.verbose,
  };
  return runScript({
    script: join(__dirname, 'child.js'),
    payload: task,
    cwd: run.workspaceRoot,
    rootless,
    sink: run.sink,
    reporter,
    signal: run.signal,
  });
}

/**
 * Refuses engine storage (the state dir, the project's stacker and OCI dirs, the shared
 * roots dir) that another uid wrote: a user cannot write into what root extracted, and root
 * would leave files behind that the user cannot remove. Checked here, outside any user
 * namespace, where owners are host uids.
 */
function checkStorage(workspaceRoot: string, stackerFile: string): void {
  const dirs = engineDirs(workspaceRoot, rootOf(stackerFile));
  try {
    checkStorageOwner([
      join(workspaceRoot, STATE_DIR),
      dirs.stackerDir,
      dirs.ociDir,
      dirs.rootsDir,
    ]);
  } catch (err) {
    if (!isStackerError(err)) throw err;
    throw new StackerError(
      err.message,
      err.where,
      `root and rootless builds cannot share a workspace's ${STATE_DIR}: run Nx as that user ` +
        `again, or remove ${STATE_DIR} as root (Nx restores or rebuilds the layers)`,
      { cause: err },
    );
  }
}
