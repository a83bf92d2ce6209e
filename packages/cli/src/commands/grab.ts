import { grab } from '@nx-stacker/engine';
import { GRAB_USAGE } from '../usage';
import {
  type CommandContext,
  CommandUsageError,
  parseCommandArgs,
  printedHelp,
  runCommand,
} from './args';

const grabOptions = { help: { type: 'boolean', short: 'h' } } as const;

/** `nx-stacker grab <tag>:<path>`: copies a file or directory of a built layer into the cwd. */
export function grabCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parseCommandArgs(ctx.argv, grabOptions, GRAB_USAGE, 1);
    if (printedHelp(values, GRAB_USAGE)) return 0;
    const spec = positionals[0];
    if (spec === undefined) throw new CommandUsageError(`missing <tag>:<path>\n\n${GRAB_USAGE}`);
    await grab({ ...ctx.dirs, spec, log: ctx.log });
    return 0;
  });
}
