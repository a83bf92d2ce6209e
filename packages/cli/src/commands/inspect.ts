import { formatInspect, inspectImages } from '@nx-stacker/engine';
import { INSPECT_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

const inspectOptions = { help: { type: 'boolean', short: 'h' } } as const;

/** `nx-stacker inspect [tag]`: stacker's description of one or every tagged image, on stdout. */
export function inspectCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parseCommandArgs(ctx.argv, inspectOptions, INSPECT_USAGE, 1);
    if (printedHelp(values, INSPECT_USAGE)) return 0;
    const images = await inspectImages({ ociDir: ctx.dirs.ociDir, tag: positionals[0] });
    process.stdout.write(formatInspect(images));
    return 0;
  });
}
