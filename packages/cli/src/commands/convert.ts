import { convertDockerfileFile } from '@nx-stacker/engine';
import { CONVERT_USAGE } from '../usage';
import { type CommandContext, parseCommandArgs, printedHelp, runCommand } from './args';

const convertOptions = {
  'docker-file': { type: 'string', short: 'i', default: 'Dockerfile' },
  'output-file': { type: 'string', short: 'o', default: 'stacker.yaml' },
  'substitute-file': { type: 'string', short: 's', default: 'stacker-subs.yaml' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `nx-stacker convert`: writes a stacker file (and a substitute file when needed) from a
 * Dockerfile; instructions it cannot map are warned about with their line numbers.
 */
export function convertCommand(ctx: CommandContext): Promise<number> {
  return runCommand(() => {
    const { values } = parseCommandArgs(ctx.argv, convertOptions, CONVERT_USAGE, 0);
    if (printedHelp(values, CONVERT_USAGE)) return 0;
    convertDockerfileFile({
      dockerfile: values['docker-file'] as string,
      outputFile: values['output-file'] as string,
      substituteFile: values['substitute-file'] as string,
      log: ctx.log,
    });
    return 0;
  });
}
