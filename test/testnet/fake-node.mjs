// A stand-in for `spo run --json` in the orchestrator's tests: it takes the same command line,
// listens on its --host/--port (a real socket the test can see), prints the JSON lines of
// src/node/snapshot.ts and stops on SIGTERM. Headers follow one schedule all fakes share (block k
// due at a wall time every --mint-interval after a common origin); a producer prints it as minted,
// every other fake as received `index` × 3 ms later. FAKE_MODE changes how it behaves:
//   crash        exit 3 at start, after a line on stderr
//   stubborn     ignore SIGTERM (the orchestrator must kill it)
//   silent-relay never receives headers (blocks never reach every node)
//   late-targets the last fake reaches its targets only after FAKE_TARGETS_MS (default 1 s)
// Its counters are its --config file's targets (reached at once), one short of the known target before.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const ms = (text) => (text === undefined ? undefined : Number(text.replace(/ms$/, '')));
const host = flag('--host');
const port = Number(flag('--port'));
const index = Number(host.split('.')[3]) - 1;
const mintInterval = ms(flag('--mint-interval'));
const mode = process.env.FAKE_MODE ?? '';
const blockMs = Number(process.env.FAKE_BLOCK_MS ?? '200');
const origin = Number(process.env.FAKE_ORIGIN ?? '0');
const producers = (process.env.FAKE_PRODUCERS ?? '').split(',').filter(Boolean).map(Number);

const config = JSON.parse(readFileSync(flag('--config'), 'utf8'));
const targets = {
  known: config.TargetNumberOfKnownPeers,
  established: config.TargetNumberOfEstablishedPeers,
  active: config.TargetNumberOfActivePeers,
};
const nodes = Number(process.env.FAKE_NODES ?? '0');
const targetsAt =
  mode === 'late-targets' && index === nodes - 1 ? Date.now() + Number(process.env.FAKE_TARGETS_MS ?? '1000') : 0;

const line = (o) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...o })}\n`);

if (mode === 'crash') {
  process.stderr.write('spo: fake node failed to start\n');
  process.exit(3);
}

const server = createServer((s) => s.destroy());
server.listen({ host, port }, () => {
  line({ event: 'started', listening: [`${host}:${port}`], network: 'testnet', magic: 4242, role: 'relay' });
});

let seq = 0;
const snap = setInterval(() => {
  seq++;
  line({
    event: 'snapshot',
    seq,
    pid: process.pid,
    listening: [`${host}:${port}`],
    uptimeMs: seq * 100,
    counters: { peerSelection: Date.now() >= targetsAt ? targets : { ...targets, known: targets.known - 1 } },
    peers: [],
  });
}, 100);

// Catch-up: the blocks due before this fake started reach it now (as chain-sync would bring them).
if (mode !== 'silent-relay') {
  for (let k = 1; origin + k * blockMs <= Date.now(); k++)
    line({ event: 'header', blockNo: k, slot: k, hash: `b${k}`, from: 'fake' });
}

const timers = [];
const schedule = () => {
  // block k (k >= 1) is due at origin + k * blockMs, minted by producers[k % producers.length]
  const now = Date.now();
  const k = Math.floor((now - origin) / blockMs) + 1;
  const due = origin + k * blockMs;
  timers.push(
    setTimeout(() => {
      const producer = producers[k % producers.length];
      const h = { event: 'header', blockNo: k, slot: k, hash: `b${k}`, from: 'fake' };
      if (producer === index && mintInterval !== undefined) line({ ...h, minted: true });
      else if (mode !== 'silent-relay')
        setTimeout(() => line({ ...h, time: new Date(due + index * 3).toISOString() }), index * 3);
      if (index === 0 && k % 5 === 0) line({ event: 'churn', action: 'DecreasedActivePeers', count: 0 });
      if (index !== 0 && k % 5 === 0) line({ event: 'churn', action: 'DecreasedActivePeers', count: 0 });
      schedule();
    }, due - now),
  );
};
schedule();

process.on('SIGTERM', () => {
  if (mode === 'stubborn') return;
  clearInterval(snap);
  for (const t of timers) clearTimeout(t);
  line({ event: 'stopped', reason: 'SIGTERM' });
  server.close(() => process.exit(0));
});
