/**
 * The live node's bootstrap-peers rule, in-process on loopback TCP with `spo serve`'s server as every
 * peer: the node judges the ledger state too old while it has bootstrap peers and the tip seen from
 * its peers has not passed useLedgerAfterSlot, and the governor is then in the reference's
 * "sensitive" state (governor.md §2.9, the §12.1 bootstrap properties): it connects only to
 * bootstrap peers and trustable local roots, asks for no ledger peers, big ledger peers or peer
 * sharing; once the tip passes the slot it forgets the bootstrap peers it is not connected to and
 * uses ledger peers, the other local roots and peer sharing.
 *
 * The governor-level properties are test/governor/bootstrap*.test.ts on simulated networks; what this
 * adds is the live node's own part (the judgement from the tip seen on real chain-sync, the root
 * sources, the snapshot) with every job the driver hands to the shell checked, and the far ends'
 * own counts of accepted connections. The chain grows only when the test extends it, so the test
 * decides when the tip passes the slot; every wait is on the node's events or the driver's steps.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultNodeSettings } from '../../src/config/node-config.js';
import { DnsError } from '../../src/dns/errors.js';
import type { AddressAnswer, RootPeerResolver, SrvAnswer } from '../../src/driver/root-peers.js';
import { isTrusted } from '../../src/governor/bootstrap.js';
import type { Decision, Job } from '../../src/governor/types.js';
import type { P2PCounters } from '../../src/metrics/counters.js';
import { NodeMetricsPublisher } from '../../src/metrics/publish.js';
import { SyntheticChain } from '../../src/net/chain.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type LiveNode, startLiveNode } from '../../src/node/live-node.js';
import type { PeerResolver } from '../../src/node/peer-state-actions.js';
import type { NodeEvent } from '../../src/node/snapshot.js';
import type { LocalRootGroup, Topology } from '../../src/topology/model.js';
import { closedPort } from '../lib/ports.js';

const MAGIC = 4242;
/** SyntheticChain: slot 1000 + 20 per block; 10 blocks at start (tip 1180). */
const AFTER_SLOT = 1300;

const noDns: RootPeerResolver & PeerResolver = {
  resolveAddresses: (name: string): Promise<AddressAnswer> =>
    Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
  resolveSrv: (name: string): Promise<SrvAnswer> =>
    Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
  addresses: (name: string) => Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
};

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function group(port: number, trustable: boolean): LocalRootGroup {
  return {
    accessPoints: [{ address: '127.0.0.1', port, kind: 'ipv4' }],
    advertise: false,
    trustable,
    hotValency: 1,
    warmValency: 1,
    warmValencySet: false,
    behindFirewall: false,
    diffusionMode: 'InitiatorAndResponder',
  };
}

async function server(o: { chain?: SyntheticChain; shares?: number }): Promise<RunningServer> {
  const s = await startServer({
    port: 0,
    magic: MAGIC,
    blockIntervalMs: 0,
    ...(o.chain ? { chain: o.chain } : {}),
    ...(o.shares === undefined ? {} : { peers: [{ family: 4, address: '127.0.0.1', port: o.shares }] }),
  });
  cleanup.push(() => s.close());
  return s;
}

/** The node's metrics, updated on its once-a-second tick: the test counts the ticks. */
class TickCounter extends NodeMetricsPublisher {
  ticks = 0;
  constructor(private readonly onTick: () => void) {
    super(new Registry());
  }
  override update(counters: P2PCounters): void {
    super.update(counters);
    this.ticks++;
    this.onTick();
  }
}

/** Walks a step's decisions in order, telling whether the governor was sensitive when each was taken. */
function eachDecision(before: boolean, decisions: Decision[], f: (d: Decision, sensitive: boolean) => void): boolean {
  let sensitive = before;
  for (const d of decisions) {
    for (const e of d.trace) {
      if (e.type === 'EnterSensitiveState') sensitive = true;
      if (e.type === 'LeaveSensitiveState' || e.type === 'UseBootstrapPeersChanged') sensitive = false;
    }
    f(d, sensitive);
  }
  return sensitive;
}

describe('live node: bootstrap peers while the ledger state is too old', () => {
  it('uses only bootstrap peers and trustable local roots until the tip passes useLedgerAfterSlot, then ledger peers, every local root and peer sharing', async () => {
    // The decoy is only ever named by peer sharing: every other peer offers it.
    const decoy = await server({});
    // The bootstrap peer and the trustable local root serve one chain, which the test extends.
    const chain = new SyntheticChain();
    const bootstrap = await server({ chain, shares: decoy.port });
    const trusted = await server({ chain, shares: decoy.port });
    const untrusted = await server({ shares: decoy.port });
    const ledger = await server({ shares: decoy.port });
    const silent = await closedPort();
    const peer = (s: RunningServer | number): string => `127.0.0.1:${typeof s === 'number' ? s : s.port}`;
    const B = peer(bootstrap);
    const B2 = peer(silent);
    const T = peer(trusted);
    const U = peer(untrusted);
    const L = peer(ledger);
    const D = peer(decoy);
    const topology: Topology = {
      localRoots: [group(trusted.port, true), group(untrusted.port, false)],
      publicRoots: [],
      useLedgerAfterSlot: AFTER_SLOT,
      ledgerPeers: { mode: 'after-slot', slot: AFTER_SLOT },
      bootstrapPeers: [
        { address: '127.0.0.1', port: bootstrap.port, kind: 'ipv4' },
        { address: '127.0.0.1', port: silent, kind: 'ipv4' },
      ],
    };

    const events: NodeEvent[] = [];
    const waiters = new Set<() => void>();
    const poke = (): void => {
      for (const w of [...waiters]) w();
    };
    const ticker = new TickCounter(() => poke());
    const node: LiveNode = await startLiveNode({
      network: 'custom',
      magic: MAGIC,
      role: 'relay',
      hosts: ['127.0.0.1'],
      port: 0,
      settings: {
        ...defaultNodeSettings('relay'),
        peerSharing: true,
        targets: {
          root: 3,
          known: 10,
          established: 6,
          active: 3,
          knownBigLedger: 1,
          establishedBigLedger: 1,
          activeBigLedger: 1,
        },
      },
      topology,
      pools: [
        { id: 'pool1ledger', stake: 1, relays: [{ kind: 'ipv4', host: '127.0.0.1', port: ledger.port, flags: [] }] },
      ],
      resolver: noDns,
      allowPrivatePeers: true,
      seed: 11,
      // peers become share-eligible 200 ms after they connect, not 5 min (the node's delay)
      policy: { peerShareActivationDelayMs: 200 },
      metrics: ticker,
      onEvent: (e) => {
        events.push(e);
        poke();
      },
    });
    cleanup.push(() => node.close());

    // Every job the governor hands to the shell, judged by the state it was decided in.
    const violations: string[] = [];
    const jobsWhileSensitive: Job[] = [];
    const jobsAfter: Job[] = [];
    let sensitive = false;
    let left = 0;
    let forgotten: string[] = [];
    node.driver.onStep((e) => {
      const s = node.driver.state;
      sensitive = eachDecision(sensitive, e.decisions, (d, sens) => {
        for (const t of d.trace)
          if (t.type === 'LeaveSensitiveState') {
            left++;
            forgotten = t.peers ?? [];
          }
        for (const j of d.jobs) {
          (sens ? jobsWhileSensitive : jobsAfter).push(j);
          if (!sens) continue;
          if ((j.kind === 'connect' || j.kind === 'activate') && !isTrusted(s, j.peer))
            violations.push(`${j.kind} ${j.peer} while sensitive`);
          if (j.kind === 'peerShare' || j.kind === 'bigLedgerPeers') violations.push(`${j.kind} while sensitive`);
          if (j.kind === 'rootPeers' && j.bootstrap !== true) violations.push('a root request for ledger peers');
        }
      });
      poke();
    });

    // bounded: a wait that fails says what it waited for and what the node last did
    const until = (what: string, pred: () => boolean, timeoutMs = 20_000): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          const last = events
            .slice(-5)
            .map((e) => JSON.stringify(e))
            .join('\n');
          reject(
            new Error(`no ${what} within ${timeoutMs} ms; violations ${violations.join(', ')}; last events:\n${last}`),
          );
        }, timeoutMs);
        const check = (): void => {
          if (pred()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (events.some((e) => e.event === 'stopped')) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`stopped before ${what}`));
          }
        };
        waiters.add(check);
        check();
      });
    const hot = (p: string): boolean => events.some((e) => e.event === 'promoted' && e.peer === p && e.to === 'hot');

    // --- syncing: the bootstrap peer and the trustable local root hot, nothing else touched -------
    await until('the bootstrap peer and the trustable local root hot', () => hot(B) && hot(T));
    // the silent bootstrap peer tried too (it is a bootstrap peer: known, never established)
    await until('the silent bootstrap peer tried', () =>
      events.some((e) => e.event === 'failed' && e.peer === B2 && e.action === 'establish'),
    );
    // two of the node's one-second ticks on: the established peers have been share-eligible (200 ms)
    // for a second at least, so a governor that asked for peers while sensitive would have
    const ticks = ticker.ticks;
    await until('two ticks of the node', () => ticker.ticks >= ticks + 2);
    const during = node.snapshot();
    expect(during.ledger).toMatchObject({
      ledgerStateJudgement: 'tooOld',
      useBootstrapPeers: true,
      sensitive: true,
      hasOnlyBootstrapPeers: true,
      useLedgerPeers: false,
      useLedgerAfterSlot: AFTER_SLOT,
      tipSlotSeen: 1180,
      outboundConnectionsState: 'trusted',
    });
    expect(during.ledger?.bootstrapPeers).toEqual({ known: 2, established: 1, active: 1 });
    expect(new Set(during.peers.filter((p) => p.source !== 'inbound').map((p) => p.peer))).toEqual(new Set([B, B2, T]));
    expect(during.peers.find((p) => p.peer === B)?.source).toBe('bootstrap');
    expect(events.some((e) => 'peer' in e && [U, L, D].includes(e.peer))).toBe(false);
    expect([untrusted.stats().accepted, ledger.stats().accepted, decoy.stats().accepted]).toEqual([0, 0, 0]);
    expect(violations).toEqual([]);
    // the governor did ask for bootstrap peers (the only root peers it may ask for)
    expect(jobsWhileSensitive.some((j) => j.kind === 'rootPeers' && j.bootstrap === true)).toBe(true);

    // --- the tip passes useLedgerAfterSlot ---------------------------------------------------------
    // below the slot first: the chain grows, the node stays where it is
    for (let i = 0; i < 5; i++) chain.extend(); // 1200 ... 1280
    await until('header 1280', () => events.some((e) => e.event === 'header' && e.slot === 1280));
    expect(node.snapshot().ledger).toMatchObject({ sensitive: true, tipSlotSeen: 1280 });
    expect(left).toBe(0);
    chain.extend(); // 1300: the tip announced with the next header passes the slot
    await until('the judgement young enough', () => left > 0);
    // the node said so first, then the governor left the sensitive state
    expect(events.filter((e) => e.event === 'ledgerState')).toEqual([
      expect.objectContaining({ judgement: 'tooOld', sensitive: true, useLedgerPeers: false, tipSlotSeen: null }),
      expect.objectContaining({ judgement: 'youngEnough', sensitive: false, useLedgerPeers: true, tipSlotSeen: 1300 }),
    ]);
    expect(node.snapshot().ledger?.tipSlotSeen).toBe(AFTER_SLOT);
    // the silent bootstrap peer (never established) is forgotten; the connected one is kept
    expect(forgotten).toEqual([B2]);
    await until('the ledger peer, the untrusted local root and the decoy (learnt by peer sharing) connected', () =>
      [L, U, D].every((p) => events.some((e) => e.event === 'promoted' && e.peer === p)),
    );
    const after = node.snapshot();
    expect(after.ledger).toMatchObject({
      ledgerStateJudgement: 'youngEnough',
      sensitive: false,
      useLedgerPeers: true,
    });
    const source = (p: string): string | undefined => after.peers.find((r) => r.peer === p)?.source;
    expect(after.peers.some((r) => r.peer === B2)).toBe(false);
    expect(source(U)).toBe('local-root');
    expect(['ledger', 'big-ledger']).toContain(source(L));
    expect(source(D)).toBe('peer-share');
    expect(jobsAfter.some((j) => j.kind === 'peerShare')).toBe(true);
    expect(jobsAfter.some((j) => j.kind === 'rootPeers' && j.bootstrap === true)).toBe(false);
    expect(violations).toEqual([]);

    // --- a SIGHUP raising useLedgerAfterSlot above the tip: no new ledger peers, but the ledger
    // state has not become older: the node stays out of the sensitive state ------------------------
    const steps = events.length;
    node.reloadTopology({ ...topology, useLedgerAfterSlot: 10_000, ledgerPeers: { mode: 'after-slot', slot: 10_000 } });
    await until('the new ledger state told', () => events.slice(steps).some((e) => e.event === 'ledgerState'));
    expect(events.slice(steps).find((e) => e.event === 'ledgerState')).toMatchObject({
      judgement: 'youngEnough',
      sensitive: false,
      useLedgerPeers: false,
      useLedgerAfterSlot: 10_000,
    });
    const ticked = ticker.ticks;
    await until('two more ticks', () => ticker.ticks >= ticked + 2);
    expect(node.snapshot().ledger).toMatchObject({ sensitive: false, useLedgerPeers: false });
    expect(sensitive).toBe(false);
  }, 60_000);
});
