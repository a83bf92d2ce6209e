/**
 * `generate_labels` (spec 3.7 step 3): a script run on the layer just built whose output files
 * become image labels.
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type Location, StackerError, wrapError } from '../errors';
import { lxcConfigLines } from '../native/lxc-config';
import { runContainer } from '../native/runner';
import type { Layer } from '../parse/types';
import { runScript } from '../run/environment';
import { type Snapshot, withTemporarySnapshot } from '../snapshot/temporary';
import { escapeLayerName } from '../util/layer-name';
import type { BuildContext } from './context';
import type { DraftImage } from './image';

/** The script's name in the labels dir, which is not a label. */
const SCRIPT_NAME = '.stacker-run.sh';

/** Where the labels dir is mounted (the deprecated `import:` layout uses `/.stacker`). */
function labelsMount(layer: Layer): string {
  return layer.legacyImport ? '/.stacker/oci-labels' : '/stacker/oci-labels';
}

/**
 * Runs the layer's `generate_labels` script and merges the labels it writes into `image`'s
 * config, over the inherited ones; the layer's own `labels` are applied later and win.
 *
 * The script runs in a container on a temporary snapshot of `image` (its layers must all be
 * in the OCI dir already), with stacker's base container config only: no imports, no binds,
 * no build environment (PATH alone). A fresh host dir is mounted read-write at
 * `/stacker/oci-labels`; every regular file left there is a label, named after the file,
 * whose value is the file's whole content. Whatever else the script changes is discarded.
 * Does nothing when the layer has no `generate_labels`. Fails with a StackerError located at
 * the directive when the script fails or leaves something that is not a regular file.
 */
export async function applyGeneratedLabels(args: {
  ctx: BuildContext;
  layer: Layer;
  image: DraftImage;
}): Promise<void> {
  const { ctx, layer, image } = args;
  if (layer.generateLabels.length === 0) return;
  const { stackerDir, rootsDir } = ctx.settings;
  const where: Location = {
    file: layer.file,
    ...layer.directivePos.generate_labels,
    layer: layer.name,
    directive: 'generate_labels',
    step: 'generate_labels',
  };

  const dir = mkdtempSync(join(stackerDir, `oci-labels-${escapeLayerName(layer.name)}-`));
  try {
    writeFileSync(join(dir, SCRIPT_NAME), runScript(layer.generateLabels), { mode: 0o755 });
    // The image is not written yet; the snapshot needs its layers only, which are.
    const unwritten = { name: layer.name, layout: ctx.layout, digest: '', ...image };
    await withTemporarySnapshot({ rootsDir, stackerDir, layer: unwritten }, (snapshot) =>
      runLabelScript({ ctx, layer, snapshot, dir, where }),
    );
    const labels = readLabels(dir, where);
    const run = { ...(image.config.config ?? {}) };
    run.Labels = { ...(run.Labels ?? {}), ...labels };
    image.config.config = run;
    ctx.log.info(`${layer.name}: generated labels ${Object.keys(labels).join(', ') || '(none)'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts the container on the snapshot and waits for the script; fails when it fails. */
async function runLabelScript(args: {
  ctx: BuildContext;
  layer: Layer;
  snapshot: Snapshot;
  dir: string;
  where: Location;
}): Promise<void> {
  const { ctx, layer, snapshot, dir, where } = args;
  const { stackerDir } = ctx.settings;
  const pivot = join(stackerDir, 'rootfsPivot');
  mkdirSync(pivot, { recursive: true, mode: 0o755 });
  mkdirSync(join(stackerDir, 'lxc'), { recursive: true });

  const lines = lxcConfigLines({
    hostname: 'stacker',
    rootfsMount: pivot,
    env: [],
    binds: [{ source: dir, dest: labelsMount(layer), readOnly: false, isDir: true }],
  });
  const configFile = join(snapshot.dir, 'lxc.conf');
  writeFileSync(configFile, `${lines.join('\n')}\n`);
  if (ctx.settings.debug) ctx.log.debug(`container config (${configFile}):\n${lines.join('\n')}`);

  const logFile = join(stackerDir, `lxc-${escapeLayerName(layer.name)}-labels.log`);
  const result = await runContainer({
    name: `${escapeLayerName(layer.name)}-labels-${process.pid}`,
    lxcpath: join(stackerDir, 'lxc'),
    configFile,
    rootfs: snapshot.mountDir,
    upper: snapshot.upper,
    work: snapshot.work,
    lowers: snapshot.lowers,
    command: [`${labelsMount(layer)}/${SCRIPT_NAME}`],
    logFile,
    logLevel: ctx.settings.debug ? 'TRACE' : 'WARN',
    debug: ctx.settings.debug,
    onOutput: (chunk) => ctx.log.output(chunk),
    signal: ctx.signal,
  }).catch((err: unknown) => {
    throw wrapError(err, 'generate_labels could not start', where);
  });
  if (result.exitCode === 0) return;

  const how = result.signal ? `killed by ${result.signal}` : `exit status ${result.exitCode}`;
  throw new StackerError(
    `generate_labels failed for image "${layer.name}": ${how}`,
    where,
    result.exitCode === 255
      ? 'exit status 255 with no output usually means the script could not start: is its ' +
          'interpreter (/bin/sh unless the first line is a #! of its own) in the image?'
      : 'the output above shows the failing command (the script runs with sh -xe)',
  );
}

/**
 * The labels the script left: one per regular file, value = content (not trimmed). A symlink
 * is refused rather than followed: it would be followed on the host, so a script could read
 * any host file into the image's config.
 */
function readLabels(dir: string, where: Location): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name === SCRIPT_NAME) continue;
    const path = join(dir, name);
    if (!lstatSync(path).isFile()) {
      throw new StackerError(
        `generate_labels left ${name} in oci-labels, which is not a regular file`,
        where,
        'write each label as a plain file: echo -n value > /stacker/oci-labels/<label name>',
      );
    }
    labels[name] = readFileSync(path, 'utf8');
  }
  return labels;
}
