import { Help } from '@oclif/core';
import { reportUnknownCommand, unknownCommand } from './hooks/unknown-command.js';

/**
 * oclif's help, except for a subject that is no command or topic (`spo help nosuch`,
 * `spo pign --help`): that gets the same "did you mean" as an unknown command, in spo's format.
 */
export default class SpoHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const error = unknownCommand(this.config, argv);
    if (error) reportUnknownCommand(error, argv);
    await super.showHelp(argv);
  }
}
