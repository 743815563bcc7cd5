/**
 * One duplex spo node as a process, for duplex-processes.test.ts:
 *   node --import tsx test/node/duplex-node-main.ts PORT
 * Listens on 127.0.0.1:PORT (SO_REUSEPORT), then reads commands on standard input, one a line:
 * `want HOST:PORT` (the peers it wants, replacing the earlier ones) and `quit`. Reports on standard
 * output, one JSON object a line, whenever what it reports changed: its peers' statuses, the
 * sockets its connection manager holds, the manager's counters, and per connection the provenance
 * and the responders that ran on it. It ends by itself when its standard input closes.
 */
import { createInterface } from 'node:readline';
import { startDuplexNode } from './duplex-node.js';

const port = Number(process.argv[2]);
const node = await startDuplexNode({ port });
let last = '';
const report = (): void => {
  const line = JSON.stringify({
    address: node.address,
    statuses: Object.fromEntries(node.actions.snapshot()),
    sockets: node.cm.sockets,
    counters: node.cm.counters(),
    connections: node.connections.map((c) => ({
      provenance: c.provenance,
      local: c.connection.local,
      remote: c.connection.remote,
      responders: [...new Set(c.responders)].sort((a, b) => a - b),
      closed: c.connection.isClosed,
    })),
  });
  if (line === last) return;
  last = line;
  process.stdout.write(`${line}\n`);
};
node.onChange(report);
report();

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await node.stop();
  process.exit(0);
};
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'want') node.want(arg ? [arg] : []);
  else if (cmd === 'quit') void stop();
});
lines.on('close', () => void stop());
