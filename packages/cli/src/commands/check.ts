import { checkHost, formatHostCheck, StackerError } from '@nx-stacker/engine';
import { CHECK_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

const checkOptions = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * `nx-stacker check`: reports, one line each, what this machine has and lacks to build;
 * fails (exit 1) when anything is missing, after listing every problem with what to do.
 */
export function checkCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values } = parseCommandArgs(ctx.argv, checkOptions, CHECK_USAGE, 0);
    if (printedHelp(values, CHECK_USAGE)) return 0;
    const report = await checkHost({ rootsDir: ctx.dirs.rootsDir });
    for (const line of formatHostCheck(report)) ctx.log.info(line);
    const problems = report.items.filter((i) => !i.ok).length;
    if (problems > 0) {
      throw new StackerError(
        `check found ${problems} problem${problems > 1 ? 's' : ''}`,
        {},
        'see the problem lines above',
      );
    }
    return 0;
  });
}
