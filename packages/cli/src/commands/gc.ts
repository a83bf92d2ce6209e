import { gc } from '@nx-stacker/engine';
import { GC_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

const gcOptions = { help: { type: 'boolean', short: 'h' } } as const;

/** `nx-stacker gc`: removes what no image or cached build needs; says what it removed. */
export function gcCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values } = parseCommandArgs(ctx.argv, gcOptions, GC_USAGE, 0);
    if (printedHelp(values, GC_USAGE)) return 0;
    const s = await gc({ ...ctx.dirs, log: ctx.log });
    const mib = (s.freedBytes / 1024 / 1024).toFixed(1);
    ctx.log.info(
      `gc: removed ${s.blobs} blobs (${mib} MiB) from ${ctx.dirs.ociDir}, ` +
        `${s.extractedLayers} extracted layers and ${s.snapshots} stale snapshots ` +
        `from ${ctx.dirs.rootsDir}`,
    );
    return 0;
  });
}
