import { chroot, splitShellWords } from '@nx-stacker/engine';
import { CHROOT_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

const chrootOptions = {
  'stacker-file': { type: 'string', short: 'f', default: 'stacker.yaml' },
  substitute: { type: 'string', multiple: true, default: [] as string[] },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `nx-stacker chroot [tag [cmd [args...]]]` (alias `exec`): a shell, or the command, in a
 * temporary copy of a built layer; exits with the command's status. A single command word
 * is split like a shell would (LXC splits stacker's one-string command the same way);
 * several words are the command's arguments as given (stacker ignores all but the first).
 */
export function chrootCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parseCommandArgs(
      ctx.argv,
      chrootOptions,
      CHROOT_USAGE,
      Number.POSITIVE_INFINITY,
    );
    if (printedHelp(values, CHROOT_USAGE)) return 0;
    const [tag, ...command] = positionals;

    return chroot({
      ...ctx.dirs,
      stackerFile: values['stacker-file'] as string,
      substitutions: values.substitute as string[],
      tag,
      command: command.length === 1 ? splitShellWords(command[0] as string) : command,
      log: ctx.log,
      debug: ctx.debug,
      signal: ctx.signal,
    });
  });
}
