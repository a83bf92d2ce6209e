import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { runContainer } from '../native/runner';
import { buildSubstitutions, loadStackerFile } from '../parse';
import type { Layer } from '../parse/types';
import { findBuiltLayer } from '../snapshot/built-layer';
import { requireRoot, type Snapshot, withTemporarySnapshot } from '../snapshot/temporary';
import { errnoCode } from '../util/fs';
import { chrootConfigLines } from './config';

/** What `chroot` needs. */
export interface ChrootOptions {
  /** Absolute stacker, roots and OCI dirs. */
  stackerDir: string;
  rootsDir: string;
  ociDir: string;
  /** The stacker file, relative to `cwd` (default `stacker.yaml`); it may be missing. */
  stackerFile?: string;
  /** The layer to enter; default: the first layer of the stacker file. */
  tag?: string;
  /** The command and its arguments (default `/bin/sh`); run as is, no shell in between. */
  command?: string[];
  /** `--substitute KEY=VALUE` entries for reading the stacker file. */
  substitutions?: string[];
  cwd?: string;
  log: Logger;
  debug?: boolean;
  signal?: AbortSignal;
  /** Environment passed through as in a `run` step (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The default command of a chroot, as in stacker. */
export const DEFAULT_SHELL = '/bin/sh';

/**
 * `stacker chroot`: runs a command (by default a shell) in a container on a temporary
 * writable snapshot of a built layer, with the terminal (or whatever stdin, stdout and
 * stderr are) passed straight through. Changes are discarded when the command exits.
 * Resolves to the command's exit status (128+N when killed by signal N).
 *
 * With a stacker file, the layer must be defined there and the container gets the layer's
 * imports, environment and binds; without one, `tag` is entered as a best effort with the
 * base container config only. Fails with a StackerError naming the layers that exist when
 * the layer was not built.
 */
export async function chroot(opts: ChrootOptions): Promise<number> {
  const { log } = opts;
  const file = resolve(opts.cwd ?? process.cwd(), opts.stackerFile ?? 'stacker.yaml');
  const layer = readLayer(opts, file);
  const tag = layer?.name ?? opts.tag;
  if (!tag) {
    throw new StackerError(
      `couldn't find stacker file ${file}, and no layer was named`,
      {},
      'name the layer: nx-stacker chroot <layer>, or pass the stacker file with -f',
    );
  }
  if (!layer) log.info(`couldn't find stacker file, chrooting to ${tag} as best effort`);

  const built = await findBuiltLayer(opts, tag, layer ? file : undefined);
  requireRoot('chroot');
  return withTemporarySnapshot({ ...opts, layer: built }, async (snapshot) => {
    log.info('This chroot is temporary, any changes will be destroyed when it exits.');
    return runIn(opts, snapshot, tag, layer);
  });
}

/** The layer from the stacker file, or undefined when there is no file (best effort). */
function readLayer(opts: ChrootOptions, file: string): Layer | undefined {
  try {
    statSync(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new StackerError(`couldn't access ${file}: ${(err as Error).message}`, { file });
  }

  const substitutions = buildSubstitutions({ flags: opts.substitutions ?? [], ...opts });
  const parsed = loadStackerFile(file, { substitutions, warn: (m) => opts.log.warn(m) });
  const names = parsed.layers.map((l) => l.name);
  const name = opts.tag ?? names[0];
  const layer = parsed.layers.find((l) => l.name === name);
  if (!layer) {
    throw new StackerError(
      name ? `no layer ${name} in stackerfile` : 'the stacker file defines no layer',
      { file },
      names.length ? `layers in ${file}: ${names.join(', ')}` : 'add a layer, or pick another -f',
    );
  }
  return layer;
}

/** Starts the container on the snapshot and waits for the command. */
async function runIn(
  opts: ChrootOptions,
  snapshot: Snapshot,
  tag: string,
  layer: Layer | undefined,
): Promise<number> {
  const lines = chrootConfigLines({
    stackerDir: opts.stackerDir,
    layer,
    env: opts.env ?? process.env,
  });
  const configFile = join(snapshot.dir, 'lxc.conf');
  writeFileSync(configFile, `${lines.join('\n')}\n`);
  if (opts.debug) opts.log.debug(`container config (${configFile}):\n${lines.join('\n')}`);

  const command = opts.command?.length ? opts.command : [DEFAULT_SHELL];
  const result = await runContainer({
    name: `chroot-${process.pid}`,
    lxcpath: join(opts.stackerDir, 'lxc'),
    configFile,
    rootfs: snapshot.mountDir,
    upper: snapshot.upper,
    work: snapshot.work,
    lowers: snapshot.lowers,
    command,
    logFile: join(opts.stackerDir, 'lxc-chroot.log'),
    logLevel: opts.debug ? 'TRACE' : 'WARN',
    debug: opts.debug,
    interactive: true,
    onDebug: (line) => opts.log.debug(line),
    signal: opts.signal,
  });
  // LXC's init reports a command it could not execute as 255 and says nothing else.
  if (result.exitCode === 255) {
    opts.log.warn(`exit status 255: if nothing ran, ${command[0]} is probably not in ${tag}`);
  }
  return result.exitCode;
}
