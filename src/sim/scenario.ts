/**
 * The simulated network of `spo governor dry-run`, built from what an operator has: the node
 * configuration's targets, the topology's roots and the stake pool registry. Pure: the command reads
 * the files; every simulated peer's behaviour is drawn from the seed.
 */
import { relayPeer } from '../driver/node-inputs.js';
import { isLiteralPeer } from '../driver/root-peers.js';
import type { ChurnRegime } from '../governor/churn.js';
import type { LedgerPool } from '../governor/ledger-peers.js';
import { DEFAULT_POLICY } from '../governor/policies.js';
import { createRng } from '../governor/rng.js';
import type {
  ConsensusMode,
  LedgerStateJudgement,
  LocalRootGroupConfig,
  Peer,
  RootPeerResult,
  Targets,
} from '../governor/types.js';
import type { Millis } from '../lib/clock.js';
import { FakeResolver } from './fake-resolver.js';
import type { SimNodeConfig } from './simulated-node.js';
import type { SimPeer } from './world.js';

/** A registry relay as the scenario needs it (structurally a registry `Relay`). */
export interface ScenarioRelay {
  kind: string;
  host: string;
  port?: number | undefined;
  /** Hygiene flags (loopback, private address, port 0...): such a relay never answers. */
  flags: readonly unknown[];
}

export interface ScenarioInput {
  seed: number;
  /** Registry pools (relative stake; relays with hygiene flags never answer). */
  pools: ReadonlyArray<{ id: string; stake?: number | undefined; relays: readonly ScenarioRelay[] }>;
  localRoots: LocalRootGroupConfig[];
  publicRoots: RootPeerResult[];
  useLedger: boolean;
  targets: Targets;
  peerSharing: boolean;
  churn: boolean;
  /** Churn regime; the sync regimes also switch the fetch mode (bulk sync) used by hot demotion. Undefined: from the judgement script (default without one). */
  regime?: ChurnRegime;
  /** Topology `bootstrapPeers` (undefined or empty: bootstrap peers disabled). */
  bootstrapPeers?: RootPeerResult[];
  consensusMode?: ConsensusMode;
  /** Genesis sync targets (`SyncTargetNumberOf*`). */
  syncTargets?: Targets;
  /** The ledger-state judgement over time; when given, the churn regime follows it (§4.4). */
  judgementScript?: Array<{ at: Millis; judgement: LedgerStateJudgement }>;
  keepTrace: boolean;
}

/**
 * The simulated network: every address a registry relay or a configured root resolves to is a peer
 * (names through the fake DNS, `FakeResolver`: the same names the node would resolve, answered
 * with addresses in 198.18.0.0/15). Relays with hygiene flags (loopback, private addresses, port
 * 0...) never accept connections; the others accept most of the time (addresses given as such a
 * little more often than those behind names), with random latencies, some activation failures,
 * asynchronous demotions (half of the peers drop their hot connection after 1-6 h) and a random
 * peer-sharing graph of addresses.
 */
export function buildScenario(input: ScenarioInput): SimNodeConfig {
  const rng = createRng(input.seed ^ 0x2545f491);
  const resolver = new FakeResolver();
  const relays = new Map<Peer, { usable: boolean; named: boolean }>(); // address -> what we know
  /** Adds the addresses of an access point; a root does not change what a relay said (`keep`). */
  const add = (accessPoint: Peer, usable: boolean, keep: boolean) => {
    const named = !isLiteralPeer(accessPoint);
    for (const p of resolver.peersOf(accessPoint)) {
      const old = relays.get(p);
      if (old && keep) continue;
      relays.set(p, { usable: (old?.usable ?? true) && usable, named: old?.named ?? named });
    }
  };
  const ledgerPools: LedgerPool<Peer>[] = [];
  for (const pool of input.pools) {
    const peers: Peer[] = [];
    for (const r of pool.relays) {
      const p = relayPeer(r);
      add(p, r.flags.length === 0, false);
      peers.push(p);
    }
    ledgerPools.push({ id: pool.id, ...(pool.stake === undefined ? {} : { stake: pool.stake }), relays: peers });
  }
  for (const g of input.localRoots) for (const { peer } of g.peers) add(peer, true, true);
  for (const r of input.publicRoots) add(r.peer, true, true);
  for (const r of input.bootstrapPeers ?? []) add(r.peer, true, true);
  const all = [...relays.keys()];
  const peers: SimPeer[] = all.map((peer) => {
    const { usable, named } = relays.get(peer) ?? { usable: true, named: false };
    const neighbours = new Set<Peer>();
    for (let k = 0; k < 10 && all.length > 1; k++) neighbours.add(all[rng.int(all.length)] as Peer);
    neighbours.delete(peer);
    return {
      peer,
      connectSuccess: usable ? (named ? 0.85 : 0.92) : 0,
      latencyMs: 20 + 280 * rng.next(),
      activateFailure: 0.02,
      hotLifetimeMs: rng.chance(0.5) ? 3_600_000 + 5 * 3_600_000 * rng.next() : undefined,
      asyncErrorShare: 0.3,
      sharing: rng.chance(0.8),
      neighbours: [...neighbours],
      headerDelayMs: 300 + 2_200 * rng.next(),
    };
  });
  return {
    seed: input.seed,
    resolver,
    peers,
    targets: input.targets,
    localRoots: input.localRoots,
    publicRoots: input.publicRoots,
    ledgerPools,
    useLedger: input.useLedger,
    churn: input.churn,
    // An explicit regime fixes the fetch mode too; otherwise both follow the judgement script.
    ...(input.regime ? { regime: input.regime, fetchMode: input.regime === 'default' ? 'deadline' : 'bulkSync' } : {}),
    policy: { ...DEFAULT_POLICY, peerSharing: input.peerSharing },
    keepTrace: input.keepTrace,
    // The dry run reports broken invariants (a bug in the port) in its summary.
    checkInvariants: 'collect',
    ...(input.bootstrapPeers && input.bootstrapPeers.length > 0 ? { bootstrapPeers: input.bootstrapPeers } : {}),
    ...(input.consensusMode ? { consensusMode: input.consensusMode } : {}),
    ...(input.syncTargets ? { syncTargets: input.syncTargets } : {}),
    ...(input.judgementScript ? { judgementScript: input.judgementScript } : {}),
  };
}
