/** A child for at-exit.test.ts: jobs registered, one removed, one throwing, then process.exit(130). */
import { writeSync } from 'node:fs';
import { atExit } from '../../src/lib/at-exit.js';

atExit(() => writeSync(1, 'first\n'));
const off = atExit(() => writeSync(1, 'removed\n'));
atExit(() => {
  throw new Error('a job that fails');
});
atExit(() => writeSync(1, 'last\n'));
off();
// as a second Ctrl-C does: leave at once, with pending work never run
setTimeout(() => writeSync(1, 'timer\n'), 10_000);
process.exit(130);
