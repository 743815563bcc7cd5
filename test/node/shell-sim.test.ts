/**
 * The connection manager and inbound governor shells in virtual time: real shells (sockets are
 * memory bearers, the clock is the event kernel's `Scheduler`) driven by random scripts
 * (test/node/shell-scripts.ts), with the node's own timeouts (handshake 10 s, protocol idle 5 s,
 * TIME_WAIT 60 s). Checked over every run: each traced connection-manager transition valid by §8.3
 * and each remote transition by §10.2, each connection's transitions chained and ending in Unknown
 * (terminated and forgotten), the counters equal to the states after every change, the inbound
 * count never above the hard limit, and no connection in a timed state longer than 1.1x its timeout
 * (virtual time: exact, whatever the load of the machine).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/governor/rng.js';
import { formatEndpoint, parseEndpoint } from '../../src/lib/address.js';
import { NetError } from '../../src/net/errors.js';
import { Mux } from '../../src/net/mux/mux.js';
import { keepAliveLoop } from '../../src/net/protocols/keep-alive/client.js';
import { type MemoryBearer, memoryPair } from '../../src/net/transport/memory.js';
import type { Dialer } from '../../src/node/connection-manager/shell.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { proposalSegment } from './flood.js';
import { LiveNode } from './live.js';
import { type Cmd, cmdArb, runScript, type ScriptNode } from './shell-scripts.js';

const TIMEOUTS = { handshake: 10_000, protocolIdle: 5_000, outboundIdle: 5_000, timeWait: 60_000 };

/** A memory network: dials reach the node listening on the address, after a one-way delay. */
class MemNet {
  readonly nodes = new Map<string, LiveNode>();
  private nextPort = 40_000;
  /** Open pairs by 4-tuple (the kernel allows one connection per 4-tuple). */
  private readonly tuples = new Map<string, MemoryBearer>();

  constructor(readonly sched: Scheduler) {}

  dialer(self: string): Dialer {
    return {
      dial: (peer, local, signal) =>
        new Promise((resolve, reject) => {
          const from = local ?? { host: parseEndpoint(self).host, port: this.nextPort++ };
          const key = `${formatEndpoint(from)}|${formatEndpoint(peer)}`;
          const open = this.tuples.get(key);
          if (open && !open.destroyed) {
            reject(new NetError('CONNECT_UNREACHABLE', 'EADDRNOTAVAIL'));
            return;
          }
          this.sched.setTimer(3, () => {
            if (signal.aborted) return reject(new NetError('NET_ABORTED', 'aborted'));
            const target = this.nodes.get(formatEndpoint(peer));
            if (!target) return reject(new NetError('CONNECT_REFUSED', `${formatEndpoint(peer)}: refused`));
            const [a, b] = memoryPair({ clock: this.sched, delayAB: 2, delayBA: 2, a: from, b: peer });
            this.tuples.set(key, a);
            target.cm.includeInbound(b);
            resolve({ bearer: a, connectMs: 3 });
          });
        }),
    };
  }

  /** A raw client's bearer into `address` (handed to the node as an accepted socket). */
  raw(address: string): MemoryBearer | undefined {
    const target = this.nodes.get(address);
    if (!target) return undefined;
    const from = { host: '10.9.9.9', port: this.nextPort++ };
    const [a, b] = memoryPair({ clock: this.sched, delayAB: 2, delayBA: 2, a: from, b: parseEndpoint(address) });
    target.cm.includeInbound(b);
    return a;
  }
}

interface Outcome {
  errors: string[];
  transitions: Set<string>;
  acquired: number;
  reused: number;
}

async function runVirtual(
  seed: number,
  nodeCount: number,
  hardLimit: number,
  initiatorOnly: boolean,
  cmds: readonly Cmd[],
): Promise<Outcome> {
  const sched = new Scheduler(0);
  const net = new MemNet(sched);
  const nodes: LiveNode[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const address = `10.0.0.${i + 1}:3001`;
    // node 0 is sometimes initiator-only: it does not listen and its connections are unidirectional
    const io = initiatorOnly && i === 0;
    const n = new LiveNode({
      initiatorOnly: io,
      clock: sched,
      rng: createRng(seed + i),
      dialer: net.dialer(address),
      ...(io ? {} : { listenAddress: parseEndpoint(address) }),
      hardLimit,
    });
    if (!io) net.nodes.set(address, n);
    nodes.push(n);
  }
  const env = {
    nodes: nodes.map((n, i): ScriptNode => ({ cm: n.cm, address: `10.0.0.${i + 1}:3001` })),
    at: (t: number, fn: () => void) => {
      sched.at(t, fn);
    },
    silent: (address: string) => {
      net.raw(address);
    },
    stranger: (address: string) => {
      const b = net.raw(address);
      if (!b) return;
      const mux = new Mux(b, { clock: sched });
      b.write(proposalSegment(764824073));
      void mux.closed;
    },
  };
  const run = runScript(env, cmds);
  const span = Math.max(0, ...cmds.map((c) => c.at));
  sched.at(span + 1_000, () => run.wrapUp());
  // everything must end by itself: idle 5 s, time-wait 60 s, handshakes 10 s; bounded by events
  const wall = performance.now();
  await sched.runAsync({ until: span + 400_000, maxEvents: 2_000_000 });
  if (process.env.SHELL_SIM_DEBUG)
    console.error(`run: ${cmds.length} cmds, ${sched.eventCount} events, ${(performance.now() - wall).toFixed(0)} ms`);
  const end = sched.now();
  const errors: string[] = [];
  const transitions = new Set<string>();
  for (const [i, n] of nodes.entries()) {
    errors.push(...n.oracle(TIMEOUTS, end).map((e) => `node ${i}: ${e}`));
    if (n.cm.state.cm.conns.size !== 0) errors.push(`node ${i}: ${n.cm.state.cm.conns.size} connections left`);
    if (n.maxInbound > hardLimit) errors.push(`node ${i}: inbound ${n.maxInbound} above ${hardLimit}`);
    if (n.cm.sockets !== 0) errors.push(`node ${i}: ${n.cm.sockets} sockets left`);
    for (const t of n.cmTransitions) transitions.add(`${t.from}>${t.to}`);
  }
  // the shells' own close runs on the virtual clock too
  const stopped = Promise.all(nodes.map((n) => n.stop()));
  await sched.runAsync({ until: sched.now() + 10_000, maxEvents: 100_000 });
  await stopped;
  errors.push(...run.failures.map((f) => `script: ${f}`));
  return { errors, transitions, acquired: run.acquired, reused: run.reused };
}

describe('connection manager + inbound governor shells, random scripts in virtual time', () => {
  it('every transition valid, chained, ending in Unknown; counters agree; hard limit kept; timeouts within 1.1x', async () => {
    const seen = new Set<string>();
    let acquired = 0;
    let reused = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.integer({ min: 2, max: 3 }),
        fc.oneof(fc.constantFrom(1, 2, 3), fc.constant(512)),
        fc.boolean(),
        fc.array(cmdArb(90_000), { minLength: 5, maxLength: 60 }),
        async (seed, nodeCount, hardLimit, initiatorOnly, cmds) => {
          const o = await runVirtual(seed, nodeCount, hardLimit, initiatorOnly, cmds);
          runs++;
          acquired += o.acquired;
          reused += o.reused;
          for (const t of o.transitions) seen.add(t);
          expect(o.errors).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.SHELL_SIM_RUNS ?? 200), seed: 12 },
    );
    console.error(
      `shell-sim: ${runs} runs, ${acquired} acquired (${reused} reused inbound duplex), ${seen.size} distinct CM transitions: ${[...seen].sort().join(' ')}`,
    );
    // the scripts reach reuse, duplex, pruning-free idle closes and TIME_WAIT
    expect(reused).toBeGreaterThan(0);
    for (const t of ['InboundIdleDup>OutboundDupTicking', 'UnnegotiatedIn>Terminating', 'Terminating>Terminated'])
      expect(seen).toContain(t);
  }, 240_000);

  it('a duplex peer connected for 15 min becomes mature and is offered to peer sharing; the wake-up runs maturation', async () => {
    const sched = new Scheduler(0);
    const net = new MemNet(sched);
    const a = new LiveNode({ clock: sched, rng: createRng(1), dialer: net.dialer('10.0.0.1:3001') });
    const b = new LiveNode({
      clock: sched,
      rng: createRng(2),
      dialer: net.dialer('10.0.0.2:3001'),
      listenAddress: parseEndpoint('10.0.0.2:3001'),
    });
    net.nodes.set('10.0.0.1:3001', a);
    net.nodes.set('10.0.0.2:3001', b);
    const got = b.cm.acquireOutbound('10.0.0.1:3001');
    await sched.runAsync({ until: 1_000 });
    const r = await got;
    if (r.kind !== 'connected') throw new Error('not connected');
    // b runs the node's keep-alive loop (every 10 s): a's responder stays up, the remote is warm
    r.connection.startInitiators('established', { 8: keepAliveLoop() });
    await sched.runAsync({ until: 14 * 60_000 });
    expect(a.cm.matureDuplexPeers()).toEqual([]);
    expect([...a.cm.remoteStates().values()]).toEqual(['RemoteWarm']);
    await sched.runAsync({ until: 16 * 60_000 });
    expect(a.cm.matureDuplexPeers()).toEqual([{ family: 4, address: '10.0.0.2', port: 3001 }]);
    const matured = a.traces.find((t) => t.source === 'inboundGovernor' && t.event.type === 'matured');
    expect(matured?.at).toBeGreaterThanOrEqual(15 * 60_000);
    // maturation runs on the wake-up (every 31.4 s) when nothing else happens: within one period
    expect(matured?.at).toBeLessThanOrEqual(15 * 60_000 + 31_416 + 1_000);
    void r.connection.stopInitiators('established', 1_000);
    const stopped = Promise.all([a.stop(), b.stop()]);
    await sched.runAsync({ until: sched.now() + 10_000 });
    await stopped;
  });
});
