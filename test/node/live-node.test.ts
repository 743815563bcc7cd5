/**
 * The live node in-process, on loopback TCP with `spo serve`'s server as its peers and a scripted
 * resolver: ledger peers only once the tip seen from peers passes useLedgerAfterSlot, the warnings
 * an operator needs when a root name does not resolve, and a close that leaves nothing behind.
 * Synchronised on the node's events, never on sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultNodeSettings } from '../../src/config/node-config.js';
import { DnsError } from '../../src/dns/errors.js';
import type { AddressAnswer, RootPeerResolver, SrvAnswer } from '../../src/driver/root-peers.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type LiveNode, type LiveNodeOptions, startLiveNode } from '../../src/node/live-node.js';
import type { PeerResolver } from '../../src/node/peer-state-actions.js';
import type { NodeEvent } from '../../src/node/snapshot.js';
import type { LocalRootGroup, Topology } from '../../src/topology/model.js';
import { NodeEventLog } from '../lib/node-events.js';

const MAGIC = 4242;

/** Answers nothing: every name is NXDOMAIN (the tests' roots are addresses, or names that must fail). */
const noDns: RootPeerResolver & PeerResolver = {
  resolveAddresses: (name: string): Promise<AddressAnswer> =>
    Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
  resolveSrv: (name: string): Promise<SrvAnswer> =>
    Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
  addresses: (name: string) => Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
};

function group(peers: Array<{ address: string; port?: number; kind: 'ipv4' | 'dns' }>): LocalRootGroup {
  return {
    accessPoints: peers,
    advertise: false,
    trustable: true,
    hotValency: peers.length,
    warmValency: peers.length,
    warmValencySet: false,
    behindFirewall: false,
    diffusionMode: 'InitiatorAndResponder',
  };
}

function topology(localRoots: LocalRootGroup[], useLedgerAfterSlot: number): Topology {
  return {
    localRoots,
    publicRoots: [],
    useLedgerAfterSlot,
    ledgerPeers:
      useLedgerAfterSlot < 0
        ? { mode: 'never' }
        : useLedgerAfterSlot === 0
          ? { mode: 'always' }
          : { mode: 'after-slot', slot: useLedgerAfterSlot },
    bootstrapPeers: null,
  };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function producer(blockIntervalMs: number): Promise<RunningServer> {
  const s = await startServer({ port: 0, magic: MAGIC, blockIntervalMs, initialBlocks: 10 });
  cleanup.push(() => s.close());
  return s;
}

async function node(o: Partial<LiveNodeOptions> & Pick<LiveNodeOptions, 'topology'>): Promise<{
  node: LiveNode;
  events: NodeEvent[];
  until: (what: string, pred: (e: NodeEvent) => boolean) => Promise<NodeEvent>;
}> {
  const log = new NodeEventLog();
  const settings = {
    ...defaultNodeSettings('relay'),
    targets: {
      root: 1,
      known: 1,
      established: 1,
      active: 1,
      knownBigLedger: 1,
      establishedBigLedger: 1,
      activeBigLedger: 1,
    },
  };
  const n = await startLiveNode({
    network: 'custom',
    magic: MAGIC,
    role: 'relay',
    hosts: ['127.0.0.1'],
    port: 0,
    settings,
    pools: [],
    resolver: noDns,
    allowPrivatePeers: true,
    seed: 7,
    onEvent: log.push,
    ...o,
  });
  cleanup.push(() => n.close());
  return { node: n, events: log.events, until: (what, pred) => log.until(what, pred) };
}

describe('live node: ledger peers after useLedgerAfterSlot', () => {
  it('dials no ledger peer until the tip seen from its peers passes the slot, then does', async () => {
    // A (a local root) serves a chain at slots 1000, 1020, ... growing every 50 ms; B is only in the
    // registry. useLedgerAfterSlot 1400: A's tip passes it after about 20 blocks.
    const a = await producer(50);
    const b = await producer(0);
    const { events, until } = await node({
      topology: topology([group([{ address: '127.0.0.1', port: a.port, kind: 'ipv4' }])], 1400),
      pools: [{ id: 'pool1b', stake: 1, relays: [{ kind: 'ipv4', host: '127.0.0.1', port: b.port, flags: [] }] }],
    });
    const bPeer = `127.0.0.1:${b.port}`;
    await until('B promoted', (e) => e.event === 'promoted' && e.peer === bPeer);
    // every header event before B's first promotion: the relay's chain was still below the slot then
    const firstB = events.findIndex((e) => e.event === 'promoted' && e.peer === bPeer);
    const headersBefore = events.slice(0, firstB).filter((e) => e.event === 'header');
    expect(headersBefore.length).toBeGreaterThan(0);
    const highest = Math.max(...headersBefore.map((e) => (e.event === 'header' ? e.slot : 0)));
    expect(highest).toBeGreaterThanOrEqual(1400);
    // and B was not dialled before: no failure or promotion of B before the tip passed 1400
    const passed = events.findIndex((e) => e.event === 'header' && e.slot >= 1400);
    expect(events.slice(0, passed).some((e) => 'peer' in e && e.peer === bPeer)).toBe(false);
  }, 30_000);

  it('never dials a ledger peer when the topology says never (useLedgerAfterSlot -1)', async () => {
    const a = await producer(50);
    const b = await producer(0);
    const { node: n, until } = await node({
      topology: topology([group([{ address: '127.0.0.1', port: a.port, kind: 'ipv4' }])], -1),
      pools: [{ id: 'pool1b', stake: 1, relays: [{ kind: 'ipv4', host: '127.0.0.1', port: b.port, flags: [] }] }],
    });
    // 20 headers from A (1 s of its chain), then B has never been touched
    await until('20 headers', (e) => e.event === 'header' && e.slot >= 1000 + 20 * 29);
    const s = n.snapshot();
    expect(s.peers.map((p) => p.peer)).toEqual([`127.0.0.1:${a.port}`]);
    expect(s.counters.peerSelection?.bigLedger?.known).toBe(0);
    expect(b.connections()).toBe(0);
  }, 30_000);
});

describe('live node: what an operator is told', () => {
  it('warns once about a local-root name that does not resolve and about having no root peers', async () => {
    const { until, events } = await node({
      topology: topology([group([{ address: 'relay.invalid', port: 3001, kind: 'dns' }])], -1),
    });
    const w = await until('a DNS warning', (e) => e.event === 'warning' && e.code === 'ROOT_PEER_DNS');
    expect(w).toMatchObject({ message: expect.stringMatching(/^relay\.invalid does not resolve: DNS_NXDOMAIN/) });
    const nr = await until('no root peers', (e) => e.event === 'warning' && e.code === 'NO_ROOT_PEERS');
    expect(nr).toMatchObject({ message: expect.stringMatching(/ledger peers off/) });
    expect(events.filter((e) => e.event === 'warning' && e.code === 'ROOT_PEER_DNS')).toHaveLength(1);
  }, 30_000);

  it('close() ends every connection and listening socket, reports stopped last, and nothing after', async () => {
    const a = await producer(50);
    const {
      node: n,
      events,
      until,
    } = await node({
      topology: topology([group([{ address: '127.0.0.1', port: a.port, kind: 'ipv4' }])], -1),
    });
    await until('A hot', (e) => e.event === 'promoted' && e.to === 'hot');
    await until('a header', (e) => e.event === 'header');
    const started = performance.now();
    await n.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(events.at(-1)).toMatchObject({ event: 'stopped', reason: 'requested' });
    expect(n.cm.sockets).toBe(0);
    // the producer sees the connection go (its count drops once its 'disconnect' listeners ran)
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (a.connections() === 0) resolve();
        else a.events.once('disconnect', () => setImmediate(check));
      };
      check();
    });
    const count = events.length;
    await a.close();
    expect(events.length).toBe(count);
  }, 30_000);
});
