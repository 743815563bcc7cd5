/**
 * The measured side of bench/relay.bench.ts's CPU figure, in its own process so that its CPU time
 * is its own (the producers and the downstream client run in the bench's process):
 *   node bench/relay-worker.mjs relay|bare MAGIC COUNT HOST:PORT,HOST:PORT,...
 * makes every peer hot through the live node's peer state actions (DirectConnector: connect,
 * handshake, keep-alive, chain-sync), then waits for COUNT headers from each.
 * - `relay`: the events go to a HeaderRelay (best chain, credits, counts) whose chain is served by
 *   `spo serve`'s server and responders, as `spo run` does; one downstream client follows it.
 * - `bare`: the events are only counted (the chain-sync clients' own cost: receive and decode).
 * - `chain`: a relay hop (as `relay`, COUNT ignored) that runs until killed: a stand-in for one
 *   `spo run` node in the latency chain, made of the same modules.
 * Prints `{"ready":true,"port":N}` once every peer is hot (port 0 for bare), then
 * `{"cpuUs":..,"wallMs":..,"headers":..}` (CPU from ready to the last header) and exits.
 * Runs dist/ (the code the CLI runs): `npm run build` first (npm run bench does).
 */
import { systemClock } from '../dist/lib/clock.js';
import { nodeResponders } from '../dist/net/protocols/responders.js';
import { startServer } from '../dist/net/serve.js';
import { HeaderRelay } from '../dist/node/header-relay.js';
import { DirectConnector } from '../dist/node/outbound.js';
import { LivePeerStateActions } from '../dist/node/peer-state-actions.js';

const [mode, magicText, countText, peersText] = process.argv.slice(2);
const magic = Number(magicText);
const count = Number(countText);
const peers = (peersText ?? '').split(',').filter(Boolean);
const relay =
  mode === 'relay' || mode === 'chain'
    ? new HeaderRelay({ recordHeader: () => undefined, notePeer: () => undefined })
    : undefined;
const got = new Map(peers.map((p) => [p, 0]));
let total = 0;
let started;
let t0 = 0;
let done = false;
const intersected = new Set();
let allIntersected = () => undefined;
const ready = new Promise((r) => {
  allIntersected = r;
});

const finish = async () => {
  done = true;
  const cpu = process.cpuUsage(started);
  process.stdout.write(
    `${JSON.stringify({ cpuUs: cpu.user + cpu.system, wallMs: performance.now() - t0, headers: total })}\n`,
  );
  await actions.stop();
  await server?.close();
  process.exit(0);
};

const actions = new LivePeerStateActions({
  clock: systemClock,
  connector: new DirectConnector({ magic, clock: systemClock }),
  onChainSync: (peer, ev) => {
    relay?.onChainSync(peer, ev);
    if (ev.type === 'RollBackward') {
      intersected.add(peer);
      if (intersected.size === peers.length) allIntersected();
    }
    if (ev.type !== 'RollForward' || started === undefined) return;
    total++;
    got.set(peer, (got.get(peer) ?? 0) + 1);
    if (!done && mode !== 'chain' && [...got.values()].every((n) => n >= count)) void finish();
  },
  ...(relay ? { intersectPoints: relay.intersectPoints } : {}),
});
const server = relay
  ? await startServer({
      host: '127.0.0.1',
      port: 0,
      magic,
      initialBlocks: 0,
      blockIntervalMs: 0,
      responders: nodeResponders({ chain: relay.chain }),
    })
  : undefined;
for (const p of peers) {
  await actions.establish(p, { diffusionMode: 'InitiatorOnly', behindFirewall: false });
  await actions.activate(p);
}
// every chain-sync found its intersection (its first event is the roll back to it)
await ready;
started = process.cpuUsage();
t0 = performance.now();
process.stdout.write(`${JSON.stringify({ ready: true, port: server?.port ?? 0 })}\n`);
