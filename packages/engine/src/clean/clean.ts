import { existsSync, rmSync } from 'node:fs';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { assertNoOtherUser, mountsUnder } from './busy';

/**
 * `stacker clean`: deletes the roots dir, the OCI dir and the stacker dir, in that order
 * (spec 7.6). Refuses to start while another process uses them. The roots dir is left alone
 * when something is mounted below it (our own mounts only ever live in private namespaces,
 * so such a mount is someone else's, and deleting through it would delete its content).
 * Every failure is logged (`problem cleaning roots …`, `problem cleaning oci dir …`,
 * `error deleting stacker dir: …`) and the others are still attempted; then the call fails
 * with stacker's `cleaning failed`.
 */
export function clean(opts: {
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
  log: Logger;
}): void {
  const { log } = opts;
  assertNoOtherUser(opts.stackerDir, 'clean');
  let failed = false;

  if (existsSync(opts.rootsDir)) {
    const mounts = mountsUnder(opts.rootsDir);
    if (mounts.length > 0) {
      log.info(`problem cleaning roots ${opts.rootsDir}: ${mounts[0]} is mounted`);
      failed = true;
    } else {
      failed = !remove(opts.rootsDir, (e) => log.info(`problem cleaning roots ${e}`)) || failed;
    }
  }
  failed = !remove(opts.ociDir, (e) => log.info(`problem cleaning oci dir ${e}`)) || failed;
  failed = !remove(opts.stackerDir, (e) => log.info(`error deleting stacker dir: ${e}`)) || failed;

  if (failed) {
    throw new StackerError('cleaning failed', {}, 'the messages above say why');
  }
}

/** Deletes a tree (a missing one is fine); false after reporting a failure. */
function remove(dir: string, report: (error: string) => void): boolean {
  try {
    rmSync(dir, { recursive: true, force: true });
    return true;
  } catch (err) {
    report((err as Error).message);
    return false;
  }
}
