import { StackerError, unprivSetup } from '@nx-stacker/engine';
import { UNPRIV_SETUP_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

const unprivSetupOptions = {
  uid: { type: 'string' },
  gid: { type: 'string' },
  username: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `nx-stacker unpriv-setup [--uid N] [--gid N] [--username NAME]`, run as root: lets that
 * user (default: the one who ran sudo) build rootless with these stacker and roots dirs.
 * Runs outside any user namespace (main.ts does not enter one for it).
 */
export function unprivSetupCommand(ctx: CommandContext): Promise<number> {
  return runCommand(async () => {
    const { values } = parseCommandArgs(ctx.argv, unprivSetupOptions, UNPRIV_SETUP_USAGE, 0);
    if (printedHelp(values, UNPRIV_SETUP_USAGE)) return 0;

    const uid = id('uid', (values.uid as string | undefined) ?? process.env.SUDO_UID);
    const gid = id('gid', (values.gid as string | undefined) ?? process.env.SUDO_GID);
    const username = (values.username as string | undefined) ?? process.env.SUDO_USER;
    if (!username) throw missing('username');

    await unprivSetup({ uid, gid, username, ...ctx.dirs, log: ctx.log });
    return 0;
  });
}

/** A numeric id from its flag or sudo's variable, with stacker's messages. */
function id(name: 'uid' | 'gid', value: string | undefined): number {
  if (value === undefined || value === '') throw missing(name);
  if (!/^\d+$/.test(value)) {
    throw new StackerError(`couldn't convert ${name} ${value}`, {}, `--${name} takes a number`);
  }
  return Number(value);
}

function missing(flag: string): StackerError {
  return new StackerError(
    `please specify --${flag} or run unpriv-setup with sudo`,
    {},
    'for example: sudo nx-stacker unpriv-setup (as the user who will build), or give ' +
      '--uid, --gid and --username',
  );
}
