/**
 * `nx-stacker:publish`: the executor behind the inferred `publish` and `nx-release-publish`
 * targets. It pushes the images of a project's stacker file (as its build target assembled
 * them) to a registry; see run-publish.ts for what is sent and options.ts for where the url,
 * tags and credentials come from.
 *
 * A user other than root publishes from a child process in a user namespace, as the CLI
 * does: the engine checks the layers against its cache first, which may extract a layer
 * into the roots dir, and an extraction outside the namespace would leave files with the
 * wrong owners there for later builds to reuse.
 */
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { needsUserNamespace } from '../../engine';
import { isVerbose, withSignals } from '../build/executor';
import { createReporter, type Sink } from '../build/reporter';
import { runScript } from '../child-process';
import type { PublishChildTask } from './child';
import { PUBLISH_ENV, type PublishExecutorOptions } from './options';
import { runPublish } from './run-publish';

export default async function runExecutor(
  options: PublishExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const env = process.env;
  const verbose = options.verbose ?? isVerbose(context);
  const sink = redacting(secretsIn(options, env));
  const reporter = createReporter({ workspaceRoot: context.root, verbose, sink });
  const task: PublishChildTask = {
    options,
    projectName: context.projectName ?? '',
    workspaceRoot: context.root,
    verbose,
  };
  return withSignals(async (signal) => {
    if (!needsUserNamespace()) {
      return { success: await runPublish({ ...task, env, reporter, signal }) };
    }
    // The child redacts too; its output passes through `sink` all the same.
    const success = await runScript({
      script: join(__dirname, 'child.js'),
      payload: { ...task, options: withoutPassword(options) },
      cwd: context.root,
      rootless: true,
      sink,
      reporter,
      signal,
    });
    return { success };
  });
}

/**
 * The options with a password option's value hidden: the option is refused (resolvePublish
 * says why), and a child's argument is visible to every user of the machine.
 */
function withoutPassword(options: PublishExecutorOptions): PublishExecutorOptions {
  if (!('password' in options)) return options;
  return { ...options, password: '***' } as PublishExecutorOptions;
}

/**
 * The password this task may use, wherever it comes from, to keep out of its output. One
 * shorter than 4 characters is left alone: hiding it would garble ordinary words.
 */
export function secretsIn(options: PublishExecutorOptions, env: NodeJS.ProcessEnv): string[] {
  const given = (options as { password?: unknown }).password;
  return [env[options.passwordEnv || PUBLISH_ENV.password], given]
    .filter((s): s is string => typeof s === 'string')
    .filter((s) => s.length >= 4);
}

/**
 * Standard output and error with every secret replaced by `***`. The engine never prints a
 * credential; this guards what it does not control (a registry echoing one in an error). Nx
 * stores a task's output in its cache and shows it in CI logs, so nothing may slip through.
 */
export function redacting(secrets: string[], sink?: Sink): Sink {
  const target = sink ?? {
    out: (text: string | Buffer) => process.stdout.write(text),
    err: (text: string) => process.stderr.write(text),
  };
  const hide = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  return {
    out: (text) => target.out(typeof text === 'string' ? hide(text) : hide(text.toString())),
    err: (text) => target.err(hide(text)),
  };
}
