import type { Hook } from '@oclif/core';
import { reportUnknownCommand, unexpectedWords, unknownCommand } from './unknown-command.js';

/**
 * `spo pign 127.0.0.1:13001`, `spo relays lsit`: the convention's error format, a "did you mean",
 * exit 2. The words are read from the command line as typed (oclif's id has joined them with ':',
 * which splits an address at its port).
 */
const hook: Hook.CommandNotFound = async (opts) => {
  const argv = process.argv.slice(2);
  reportUnknownCommand(unknownCommand(opts.config, argv) ?? unexpectedWords(opts.config, argv), argv);
};

export default hook;
