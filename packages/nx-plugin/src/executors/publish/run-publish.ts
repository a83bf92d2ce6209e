/**
 * One publish task: sends the images of a stacker file's layers, under each tag, to a
 * registry or an OCI layout, through the engine's `publish` (stacker's `publish`).
 *
 * What goes out is the image the project's build target assembled in
 * `dist/stacker/<root>/oci`, which the publish targets depend on, so Nx has just brought it up
 * to date: every layer either ran or was restored from the (possibly remote) cache because
 * its inputs are unchanged. The engine's own test, that each layer is in the engine's cache
 * as a build would compute it now, is therefore skipped (stacker's `--force`): the engine's
 * state never sees layers Nx restored, so on a fresh CI machine that test would refuse
 * every image Nx vouches for.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isStackerError, publish, StackerError } from '../../engine';
import { engineDirs, imageOutput } from '../../workspace/paths';
import { rootOf } from '../../workspace/projects';
import type { Reporter } from '../build/reporter';
import { type PublishExecutorOptions, resolvePublish } from './options';

/** Runs one task; reports through `reporter` and resolves to whether it succeeded. */
export async function runPublish(args: {
  options: PublishExecutorOptions;
  projectName: string;
  workspaceRoot: string;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  signal: AbortSignal;
}): Promise<boolean> {
  const { options, reporter, workspaceRoot } = args;
  let sending: string | undefined;
  try {
    const resolved = resolvePublish(options, { env: args.env, projectName: args.projectName });
    if ('skip' in resolved) {
      reporter.info(resolved.skip);
      return true;
    }
    if (resolved.unknown.length) {
      reporter.log.warn(`ignoring options the publish executor does not know: ${resolved.unknown}`);
    }
    const root = rootOf(options.stackerFile);
    const image = assembledImage(options.stackerFile, args.projectName, workspaceRoot);

    sending = resolved.url;
    reporter.info(`publishing to ${resolved.url} (from ${resolved.urlFrom})`);
    const images = await publish({
      stackerFiles: [options.stackerFile],
      cwd: workspaceRoot,
      ...engineDirs(workspaceRoot, root),
      ociDir: image,
      substitutions: options.substitute ?? [],
      url: inWorkspace(resolved.url, workspaceRoot),
      tags: resolved.tags,
      username: resolved.username,
      password: resolved.password,
      skipTls: resolved.skipTls,
      images: resolved.images,
      layerTypes: resolved.layerTypes,
      showOnly: resolved.showOnly,
      force: true,
      env: args.env,
      log: reporter.log,
      signal: args.signal,
    });
    reporter.info(
      resolved.showOnly
        ? `dry run: ${images.length} image(s) would be published; nothing was sent`
        : `published ${images.length} image(s) to ${resolved.url}`,
    );
    return true;
  } catch (err) {
    reporter.failure(sending ? naming(err, sending) : err);
    return false;
  }
}

/** The absolute dir of the image the project's build target assembled; throws when none is. */
function assembledImage(stackerFile: string, projectName: string, workspaceRoot: string): string {
  const image = imageOutput(rootOf(stackerFile));
  if (!existsSync(join(workspaceRoot, image, 'index.json'))) {
    throw new StackerError(
      `there is no image to publish in ${image}`,
      { file: stackerFile, step: 'publish' },
      `build it first (the ${projectName} project's build target); publish targets ` +
        'depend on it unless run with --exclude-task-dependencies',
    );
  }
  return join(workspaceRoot, image);
}

/** The url with a relative `oci:` layout dir made relative to the workspace root. */
function inWorkspace(url: string, workspaceRoot: string): string {
  return url.startsWith('oci:') ? `oci:${resolve(workspaceRoot, url.slice('oci:'.length))}` : url;
}

/** The error with the destination in its message, which the engine's may only name in part. */
function naming(err: unknown, url: string): unknown {
  if (!(err instanceof Error)) return err;
  const message = `publishing to ${url} failed: ${err.message}`;
  if (isStackerError(err)) {
    return new StackerError(message, err.where, err.hint, { cause: err });
  }
  return new StackerError(message, { step: 'publish' }, undefined, { cause: err });
}
