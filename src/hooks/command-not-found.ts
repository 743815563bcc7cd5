import type { Hook } from '@oclif/core';

/** `spo relays lst` gets the convention's one-line error and exit 2 instead of oclif's boxed message. */
const hook: Hook.CommandNotFound = async (opts) => {
  const words = opts.id.split(':').join(' ');
  const topics = [...new Set(opts.config.commands.map((c) => c.id.split(':')[0]))].sort().join(', ');
  process.stderr.write(`spo: unknown command "${words}"\nhint: run spo --help; commands and topics: ${topics}\n`);
  process.exit(2);
};

export default hook;
