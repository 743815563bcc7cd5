/**
 * Root peers as the node gets them, in the simulated node that `spo governor dry-run` runs
 * (governor.md §6.2-6.4): topology names are resolved (here by the deterministic fake DNS) before
 * they become peers, looked up again when their TTL expires, and a name that does not resolve is
 * retried with the reference's backoff without stopping anything. All in virtual time.
 */
import { describe, expect, it } from 'vitest';
import { isLiteralPeer, type RootPeerResolver } from '../../src/driver/root-peers.js';
import { SyncResult } from '../../src/driver/sync-result.js';
import type { LocalRootGroupConfig, Peer, RootPeerResult, Targets } from '../../src/governor/types.js';
import { FakeResolver, fakeAddresses } from '../../src/sim/fake-resolver.js';
import { type SimNodeConfig, SimulatedNode } from '../../src/sim/simulated-node.js';
import type { SimPeer } from '../../src/sim/world.js';

const MIN = 60_000;

const TARGETS: Targets = {
  root: 10,
  known: 20,
  established: 6,
  active: 3,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
};

/** A simulated peer that always answers. */
const simPeer = (peer: Peer): SimPeer => ({
  peer,
  connectSuccess: 1,
  latencyMs: 20,
  activateFailure: 0,
  hotLifetimeMs: undefined,
  asyncErrorShare: 0,
  sharing: false,
  neighbours: [],
  headerDelayMs: 500,
});

function node(
  localRoots: LocalRootGroupConfig[],
  publicRoots: RootPeerResult[],
  peers: Peer[],
  extra: Partial<SimNodeConfig> = {},
): SimulatedNode {
  return new SimulatedNode({
    seed: 5,
    peers: peers.map(simPeer),
    targets: TARGETS,
    localRoots,
    publicRoots,
    useLedger: false,
    churn: false,
    checkInvariants: true,
    keepTrace: false,
    blockIntervalMs: 0,
    ...extra,
  });
}

describe('root peers in the simulated node (the dry run)', () => {
  it('a DNS-name local root and an SRV public root become address peers, named in the snapshot', () => {
    const fake = new FakeResolver();
    const local = 'relay.example.com:6000';
    const srv = '_cardano._tcp.pool.example';
    const addresses = [...fake.peersOf(local), ...fake.peersOf(srv), '192.0.2.1:3001'];
    const n = node(
      [{ hotValency: 1, peers: [{ peer: local }, { peer: '192.0.2.1:3001' }] }],
      [{ peer: srv, kind: 'public-root', advertise: true }],
      addresses,
    );
    n.runUntil(10 * MIN);
    const s = n.state;
    // The governor never saw a name.
    expect([...s.known.keys()].every(isLiteralPeer)).toBe(true);
    expect(s.known.has(local)).toBe(false);
    expect(s.known.has(srv)).toBe(false);
    // The local root's group holds every address of its name, with the configured port.
    const localAddresses = fakeAddresses('relay.example.com').map((a) => `${a}:6000`);
    expect([...s.localRoots.config.keys()].sort()).toEqual([...localAddresses, '192.0.2.1:3001'].sort());
    // The SRV public root gave the addresses of one of its targets, with the SRV port.
    const srvTargets = [`a.${srv}`, `b.${srv}`].map((t) => fakeAddresses(t).map((a) => `${a}:3001`));
    const publicRoots = [...s.publicRoots.extra.keys()];
    expect(publicRoots.length).toBeGreaterThan(0);
    expect(srvTargets.some((t) => t.length === publicRoots.length && t.every((p) => publicRoots.includes(p)))).toBe(
      true,
    );
    expect(s.publicRoots.extra.get(publicRoots[0] as Peer)).toEqual({ advertise: true, bootstrap: false });
    // Connections went to the addresses; the report shows each address with the name it came from.
    const rows = n.snapshot().peers;
    const row = (p: Peer) => rows.find((r) => r.peer === p);
    for (const p of localAddresses) expect(row(p)).toMatchObject({ name: 'relay.example.com', source: 'local-root' });
    expect(row(publicRoots[0] as Peer)).toMatchObject({ name: srv, source: 'public-root' });
    expect(row('192.0.2.1:3001')?.name).toBeUndefined();
    expect(n.snapshot().counters.established).toBeGreaterThan(0);
    expect(n.violations).toEqual([]);
  });

  it("a local root's name is looked up again when its TTL expires, in simulated time, and the governor follows the new address", () => {
    const fake = new FakeResolver();
    let now = () => 0;
    const lookups: number[] = [];
    // relay.example.com moves from 198.18.0.1 to 198.18.0.2 at 7 minutes; TTL 300 s.
    const resolver: RootPeerResolver = {
      resolveAddresses() {
        lookups.push(now());
        const r = new SyncResult<{ addresses: string[]; ttlS: number }>();
        r.resolve({ addresses: [now() < 7 * MIN ? '198.18.0.1' : '198.18.0.2'], ttlS: 300 });
        return r;
      },
      resolveSrv: (name) => fake.resolveSrv(name),
    };
    const n = node(
      [{ hotValency: 1, peers: [{ peer: 'relay.example.com:3001' }] }],
      [],
      ['198.18.0.1:3001', '198.18.0.2:3001'],
      { resolver },
    );
    now = () => n.now;
    n.runUntil(7 * MIN);
    expect(lookups).toEqual([0, 5 * MIN]);
    expect([...n.state.localRoots.config.keys()]).toEqual(['198.18.0.1:3001']);
    expect(n.state.active.has('198.18.0.1:3001')).toBe(true);
    // Not before the TTL: the next lookup is at 10 minutes.
    n.runUntil(10 * MIN - 1);
    expect([...n.state.localRoots.config.keys()]).toEqual(['198.18.0.1:3001']);
    n.runUntil(12 * MIN);
    expect(lookups).toEqual([0, 5 * MIN, 10 * MIN]);
    expect([...n.state.localRoots.config.keys()]).toEqual(['198.18.0.2:3001']);
    // The new address is the hot local root; the old one stays known but is no root any more.
    expect(n.state.active.has('198.18.0.2:3001')).toBe(true);
    const rows = n.snapshot().peers;
    expect(rows.find((r) => r.peer === '198.18.0.2:3001')).toMatchObject({
      source: 'local-root',
      name: 'relay.example.com',
    });
    expect(n.state.known.has('198.18.0.1:3001')).toBe(true);
    expect(n.violations).toEqual([]);
  });

  it('a name that fails to resolve is retried with the backoff (60, 125, 255 ... s) and the node runs on without it', () => {
    const fake = new FakeResolver(new Set(['down.example.com']));
    let now = () => 0;
    const tries: number[] = [];
    const resolver: RootPeerResolver = {
      resolveAddresses(name) {
        if (name === 'down.example.com') tries.push(now());
        // It comes back after an hour.
        if (name === 'down.example.com' && now() >= 60 * MIN) return new FakeResolver().resolveAddresses(name);
        return fake.resolveAddresses(name);
      },
      resolveSrv: (name) => fake.resolveSrv(name),
    };
    const up = new FakeResolver().peersOf('down.example.com:3001');
    const n = node(
      [{ hotValency: 2, peers: [{ peer: 'down.example.com:3001' }, { peer: '192.0.2.1:3001' }] }],
      [{ peer: 'nx.invalid:3001', kind: 'public-root', advertise: false }],
      ['192.0.2.1:3001', ...up],
      { resolver },
    );
    now = () => n.now;
    n.runUntil(59 * MIN);
    const waits = tries.slice(1).map((t, i) => (t - (tries[i] as number)) / 1000);
    expect(waits.slice(0, 5)).toEqual([60, 125, 255, 515, 900]);
    // Meanwhile the literal local root works, and the NXDOMAIN public root added nothing.
    expect([...n.state.localRoots.config.keys()]).toEqual(['192.0.2.1:3001']);
    expect(n.state.active.has('192.0.2.1:3001')).toBe(true);
    expect(n.state.publicRoots.extra.size).toBe(0);
    expect(n.critical).toBeUndefined();
    // Once it resolves again (the next retry after the hour), its addresses join the group.
    n.runUntil(90 * MIN);
    expect([...n.state.localRoots.config.keys()].sort()).toEqual(['192.0.2.1:3001', ...up].sort());
    expect(n.violations).toEqual([]);
  });
});
