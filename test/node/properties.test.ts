/**
 * Issue 12's transition oracle (governor.md §12.2) over randomised scripts in virtual time: several
 * nodes (composed connection manager + inbound governor cores) on a simulated network
 * (test/node/sim-net.ts) acquire, use and release connections to each other and to themselves,
 * with simultaneous opens, refused and timed-out handshakes, resets, protocol errors and tiny hard
 * limits. Checked on every run: every connection-manager transition valid by §8.3, every remote
 * transition valid by §10.2, each connection's transitions chain and end in Unknown (none) once the
 * script quiesces, counters never disagree with the states, inbound connections never exceed the
 * hard limit, no connection in a timed state longer than 1.1x its timeout, no method called in a
 * state it should never see, and (the reference's maturedPeers) no duplex peer lost from the fresh
 * and mature sets nor fresh for longer than 15 min plus one wake-up (some runs hold for 20 min).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HANDSHAKE_TIMEOUT, PROTOCOL_IDLE_TIMEOUT, TIME_WAIT_TIMEOUT } from '../../src/node/connection-manager/core.js';
import {
  chainErrors,
  timeoutViolations,
  validCmTransition,
  validRemoteTransition,
} from '../../src/node/transitions.js';
import { type NodeSpec, SimNet } from './sim-net.js';

const RUNS = 300;

type Cmd =
  | { at: number; kind: 'acquire'; node: number; target: number }
  | { at: number; kind: 'promote' | 'demote' | 'release' | 'protocolError'; node: number; k: number }
  | { at: number; kind: 'reset'; k: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      kind: fc.constant('acquire' as const),
      node: fc.nat(9),
      target: fc.nat(9),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      kind: fc.constant('promote' as const),
      node: fc.nat(9),
      k: fc.nat(9),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      kind: fc.constant('demote' as const),
      node: fc.nat(9),
      k: fc.nat(9),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      kind: fc.constant('release' as const),
      node: fc.nat(9),
      k: fc.nat(9),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      kind: fc.constant('protocolError' as const),
      node: fc.nat(9),
      k: fc.nat(9),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      kind: fc.constant('reset' as const),
      k: fc.nat(9),
    }),
  },
);

const specArb: fc.Arbitrary<NodeSpec> = fc.record({
  duplex: fc.constant(true),
  hardLimit: fc.oneof(fc.constantFrom(1, 2, 3), fc.constant(512)),
});

const scenarioArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  specs: fc.array(specArb, { minLength: 2, maxLength: 4 }),
  /** Make one node initiator-only (unidirectional connections), sometimes. */
  initiatorOnly: fc.boolean(),
  cmds: fc.array(cmdArb, { minLength: 10, maxLength: 120, size: 'max' }),
  /** When the nodes release what they use: soon, or after 20 min (duplex peers mature at 15 min). */
  holdUntil: fc.oneof(
    { weight: 4, arbitrary: fc.constant(45_000) },
    { weight: 1, arbitrary: fc.constant(20 * 60_000) },
  ),
});

interface Outcome {
  net: SimNet;
  errors: string[];
  transitions: Map<string, number>;
  remote: Map<string, number>;
  end: number;
}

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function runScenario(sc: Scenario): Outcome {
  const specs = sc.specs.map((s, i) => (sc.initiatorOnly && i === 0 ? { ...s, duplex: false } : s));
  const net = new SimNet(sc.seed, specs);
  const nodes = net.nodes;
  const targets = net.listening;
  for (const c of sc.cmds) {
    net.sched.at(c.at, () => {
      if (c.kind === 'reset') return net.resetAny(c.k);
      const node = nodes[c.node % nodes.length];
      if (!node) return;
      switch (c.kind) {
        case 'acquire': {
          const t = targets[c.target % targets.length];
          if (t) node.acquire(t);
          return;
        }
        case 'promote':
          return node.promote(c.k);
        case 'demote':
          return node.demote(c.k);
        case 'release':
          return node.releaseAt(c.k);
        case 'protocolError':
          return node.protocolError(c.k);
      }
    });
  }
  // wind down: every node releases what it uses; then everything must end by itself
  net.sched.at(sc.holdUntil, () => {
    net.windingDown = true;
    for (const n of nodes) n.releaseAll();
  });
  net.sched.run({ maxEvents: 200_000 });
  const end = net.sched.now();
  const errors: string[] = [];
  const transitions = new Map<string, number>();
  const remote = new Map<string, number>();
  if (net.sched.next() !== undefined) errors.push('did not quiesce within 200,000 events');
  const timeouts = {
    handshake: HANDSHAKE_TIMEOUT,
    protocolIdle: PROTOCOL_IDLE_TIMEOUT,
    outboundIdle: PROTOCOL_IDLE_TIMEOUT,
    timeWait: TIME_WAIT_TIMEOUT,
  };
  for (const n of nodes) {
    errors.push(...n.errors);
    for (const t of n.cmTransitions) {
      const key = `${t.from}>${t.to}`;
      transitions.set(key, (transitions.get(key) ?? 0) + 1);
      if (!validCmTransition(t.from, t.to)) errors.push(`${n.name} conn ${t.conn}: invalid ${key} at ${t.at}`);
    }
    for (const t of n.remoteTransitions) {
      const key = `${t.from}>${t.to}`;
      remote.set(key, (remote.get(key) ?? 0) + 1);
      if (!validRemoteTransition(t.from, t.to))
        errors.push(`${n.name} conn ${t.conn}: invalid remote ${key} at ${t.at}`);
    }
    errors.push(...chainErrors(n.cmTransitions, ['Unknown', 'Terminated'], ['Unknown']).map((e) => `${n.name} ${e}`));
    errors.push(...chainErrors(n.remoteTransitions, [null], [null]).map((e) => `${n.name} remote ${e}`));
    errors.push(...timeoutViolations(n.cmTransitions, timeouts, end).map((e) => `${n.name} ${e}`));
    for (const t of n.cmTrace)
      if (t.type === 'unexpected')
        errors.push(`${n.name}: unexpected ${t.method} in ${t.st} (conn ${t.conn}) at ${t.at}`);
    if (n.state.cm.conns.size > 0) errors.push(`${n.name}: ${n.state.cm.conns.size} connections left`);
    if (n.state.ig.conns.size > 0) errors.push(`${n.name}: inbound governor still tracks ${n.state.ig.conns.size}`);
  }
  return { net, errors, transitions, remote, end };
}

describe('connection manager + inbound governor: transition oracle over random scripts', () => {
  it(`holds over ${RUNS} runs in virtual time and covers the reference's transitions`, () => {
    const covered = new Map<string, number>();
    const remoteCovered = new Map<string, number>();
    let runs = 0;
    let steps = 0;
    let prunes = 0;
    let matured = 0;
    const stats = { dials: 0, simultaneous: 0, addrInUse: 0, refusedHandshakes: 0, hsTimeouts: 0, resets: 0 };
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const o = runScenario(sc);
        runs++;
        for (const [k, v] of o.transitions) covered.set(k, (covered.get(k) ?? 0) + v);
        for (const [k, v] of o.remote) remoteCovered.set(k, (remoteCovered.get(k) ?? 0) + v);
        for (const n of o.net.nodes) {
          steps += n.steps;
          matured += n.matured;
          prunes += n.cmTrace.filter((t) => t.type === 'prune').length;
        }
        for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] += o.net.stats[k];
        if (o.errors.length > 0) throw new Error(o.errors.slice(0, 10).join('\n'));
      }),
      { seed: 20261205, numRuns: RUNS },
    );
    const summary = {
      runs,
      steps,
      prunes,
      matured,
      ...stats,
      cmTransitionKinds: covered.size,
      remoteTransitionKinds: remoteCovered.size,
    };
    process.stderr.write(`node properties: ${JSON.stringify(summary)}\n`);
    process.stderr.write(`  cm transitions: ${JSON.stringify(Object.fromEntries([...covered].sort()))}\n`);
    process.stderr.write(`  remote transitions: ${JSON.stringify(Object.fromEntries([...remoteCovered].sort()))}\n`);
    expect(runs).toBe(RUNS);
    // the named transitions the scripts must reach (§8.3), including pruning and the TCP corner cases
    for (const t of [
      'Unknown>ReservedOutbound',
      'ReservedOutbound>UnnegotiatedOut',
      'ReservedOutbound>UnnegotiatedIn',
      'UnnegotiatedOut>UnnegotiatedIn',
      'UnnegotiatedIn>UnnegotiatedOut',
      'UnnegotiatedOut>OutboundDupTicking',
      'UnnegotiatedOut>OutboundUni',
      'UnnegotiatedIn>InboundIdleDup',
      'UnnegotiatedIn>InboundIdleUni',
      'UnnegotiatedIn>Terminating',
      'OutboundDupTicking>OutboundDupExpired',
      'OutboundDupTicking>InboundIdleDup',
      'OutboundDupTicking>Duplex',
      'OutboundDupExpired>Duplex',
      'OutboundDupExpired>OutboundIdleDup',
      'OutboundUni>OutboundIdleUni',
      'OutboundIdleUni>Terminating',
      'OutboundIdleDup>Terminating',
      'OutboundIdleDup>InboundDup',
      'InboundIdleDup>OutboundDupTicking',
      'InboundIdleDup>InboundDup',
      'InboundIdleDup>Terminating',
      'InboundIdleUni>InboundUni',
      'InboundIdleUni>Terminating',
      'InboundUni>InboundIdleUni',
      'InboundDup>InboundIdleDup',
      'InboundDup>Duplex',
      'Duplex>OutboundDupTicking',
      'Duplex>InboundDup',
      'Terminating>Terminated',
      'Terminated>Unknown',
      'Unknown>UnnegotiatedIn',
    ]) {
      expect(covered.get(t) ?? 0, t).toBeGreaterThan(0);
    }
    for (const t of [
      'null>RemoteIdle',
      'RemoteIdle>RemoteWarm',
      'RemoteWarm>RemoteHot',
      'RemoteHot>RemoteWarm',
      'RemoteWarm>RemoteIdle',
      'RemoteIdle>RemoteCold',
      'RemoteCold>RemoteWarm',
      'RemoteIdle>null',
      'RemoteCold>null',
      'RemoteWarm>null',
    ]) {
      expect(remoteCovered.get(t) ?? 0, t).toBeGreaterThan(0);
    }
    expect(prunes).toBeGreaterThan(0);
    expect(matured).toBeGreaterThan(0);
    expect(stats.simultaneous).toBeGreaterThan(0);
  });
});
