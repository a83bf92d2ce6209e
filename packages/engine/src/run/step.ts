import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { lxcConfigLines } from '../native/lxc-config';
import { runContainer } from '../native/runner';
import { splitShellWords } from '../parse';
import type { Layer } from '../parse/types';
import { escapeLayerName } from '../util/layer-name';
import { importsBindMounts, importsMount, layerBindMounts } from './binds';
import { DEFAULT_PATH, runEnvironment, runScript } from './environment';

/** Everything a layer's `run` step needs, as paths on the host. */
export interface RunStepInput {
  layer: Layer;
  /** Staged imports, bind-mounted read-only at /stacker/imports. */
  importsDir: string;
  /** Lower dirs of the overlay stack, top-first. */
  lowers: string[];
  upper: string;
  work: string;
  /** Where the runner mounts the overlay stack (in its private mount namespace). */
  mountDir: string;
  stackerDir: string;
  log: Logger;
  debug: boolean;
  /** `--on-run-failure`: a command started in the same container when the step fails. */
  onRunFailure?: string;
  signal?: AbortSignal;
  hostEnv?: NodeJS.ProcessEnv;
}

/**
 * Runs the layer's `run` script in an LXC container on the overlay stack and fails with a
 * located error when it exits non-zero. Afterwards the mount points LXC created for `/stacker`
 * are removed from the upper dir, so they never reach the image.
 */
export async function runStep(input: RunStepInput): Promise<void> {
  const { layer, log } = input;
  const scriptPath = join(input.importsDir, '.stacker-run.sh');
  writeFileSync(scriptPath, runScript(layer.run), { mode: 0o755 });

  const configFile = writeContainerConfig(input);
  const logFile = join(input.stackerDir, `lxc-${escapeLayerName(layer.name)}.log`);
  if (input.debug) log.debug(`liblxc log: ${logFile}`);
  const command = [`${importsMount(layer)}/.stacker-run.sh`];

  try {
    const result = await startContainer(input, configFile, logFile, command, false);
    if (result.exitCode === 0) return;

    if (input.onRunFailure) {
      log.info(`run failed; starting ${input.onRunFailure} in the container`);
      const command = splitShellWords(input.onRunFailure);
      await startContainer(input, configFile, logFile, command, true).catch((err: unknown) =>
        log.warn(`--on-run-failure command failed: ${String(err)}`),
      );
    }
    const how = result.signal ? `killed by ${result.signal}` : `exit status ${result.exitCode}`;
    throw new StackerError(
      `run commands failed for image "${layer.name}" in "${layer.file}": ${how}`,
      { file: layer.file, ...layer.directivePos.run, layer: layer.name, step: 'run' },
      result.exitCode === 255
        ? 'exit status 255 with no output usually means the script could not start: ' +
            'is its interpreter (/bin/sh unless the first line is a #! of its own) in the image?'
        : 'the output above shows the failing command (scripts run with sh -xe); ' +
            'fix it; to look around in the failed container, build it with ' +
            `nx-stacker build -f ${layer.file} --shell-fail`,
    );
  } finally {
    removeMountPoints(input.upper, layer);
  }
}

function startContainer(
  input: RunStepInput,
  configFile: string,
  logFile: string,
  command: string[],
  interactive: boolean,
) {
  return runContainer({
    name: `${escapeLayerName(input.layer.name)}-${process.pid}`,
    lxcpath: join(input.stackerDir, 'lxc'),
    configFile,
    rootfs: input.mountDir,
    upper: input.upper,
    work: input.work,
    lowers: input.lowers,
    command,
    logFile,
    logLevel: input.debug ? 'TRACE' : 'WARN',
    debug: input.debug,
    interactive,
    onOutput: (chunk) => input.log.output(chunk),
    signal: input.signal,
  });
}

/** Writes the container's LXC config next to the staged imports; returns its path. */
function writeContainerConfig(input: RunStepInput): string {
  const { layer } = input;
  const pivot = join(input.stackerDir, 'rootfsPivot');
  mkdirSync(pivot, { recursive: true, mode: 0o755 });
  mkdirSync(join(input.stackerDir, 'lxc'), { recursive: true });

  const binds = [...importsBindMounts(input.importsDir, layer), ...layerBindMounts(layer, 'run')];
  const lines = lxcConfigLines({
    hostname: 'stacker',
    rootfsMount: pivot,
    // lxcConfigLines puts the default PATH first itself.
    env: runEnvironment(layer, input.hostEnv ?? process.env).filter(
      ([k, v]) => k !== 'PATH' || v !== DEFAULT_PATH,
    ),
    binds,
  });
  const path = join(input.stackerDir, `lxc-${escapeLayerName(layer.name)}.conf`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  if (input.debug) input.log.debug(`container config (${path}):\n${lines.join('\n')}`);
  return path;
}

/** Drops what LXC created in the upper dir to mount /stacker (and /.stacker for `import:`). */
function removeMountPoints(upper: string, layer: Layer): void {
  rmSync(join(upper, 'stacker'), { recursive: true, force: true });
  if (layer.legacyImport) rmSync(join(upper, '.stacker'), { recursive: true, force: true });
}
