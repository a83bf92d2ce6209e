import { clean } from '@nx-stacker/engine';
import { CLEAN_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

/** `--all` is a no-op kept for compatibility, as in stacker. */
const cleanOptions = {
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `nx-stacker clean [--all]`: deletes the roots, OCI and stacker dirs. */
export function cleanCommand(ctx: CommandContext): Promise<number> {
  return runCommand(() => {
    const { values } = parseCommandArgs(ctx.argv, cleanOptions, CLEAN_USAGE, 0);
    if (printedHelp(values, CLEAN_USAGE)) return 0;
    clean({ ...ctx.dirs, log: ctx.log });
    return 0;
  });
}
