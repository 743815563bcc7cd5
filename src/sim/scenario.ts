/**
 * The simulated network of `spo governor dry-run`, built from what an operator has: the node
 * configuration's targets, the topology's roots and the stake pool registry. Pure: the command reads
 * the files; every simulated peer's behaviour is drawn from the seed.
 */
import { relayPeer } from '../driver/node-inputs.js';
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
 * The simulated network: every registry relay and every configured root is a peer. Relays with
 * hygiene flags (loopback, private addresses, port 0...) never accept connections; the others
 * accept most of the time, with random latencies, some activation failures, asynchronous demotions
 * (half of the peers drop their hot connection after 1-6 h) and a random peer-sharing graph.
 */
export function buildScenario(input: ScenarioInput): SimNodeConfig {
  const rng = createRng(input.seed ^ 0x2545f491);
  const relays = new Map<Peer, boolean>(); // peer -> usable
  const ledgerPools: LedgerPool<Peer>[] = [];
  for (const pool of input.pools) {
    const peers: Peer[] = [];
    for (const r of pool.relays) {
      const p = relayPeer(r);
      relays.set(p, (relays.get(p) ?? true) && r.flags.length === 0);
      peers.push(p);
    }
    ledgerPools.push({ id: pool.id, ...(pool.stake === undefined ? {} : { stake: pool.stake }), relays: peers });
  }
  for (const g of input.localRoots) for (const { peer } of g.peers) if (!relays.has(peer)) relays.set(peer, true);
  for (const r of input.publicRoots) if (!relays.has(r.peer)) relays.set(r.peer, true);
  for (const r of input.bootstrapPeers ?? []) if (!relays.has(r.peer)) relays.set(r.peer, true);
  const all = [...relays.keys()];
  const peers: SimPeer[] = all.map((peer) => {
    const usable = relays.get(peer) ?? true;
    const neighbours = new Set<Peer>();
    for (let k = 0; k < 10 && all.length > 1; k++) neighbours.add(all[rng.int(all.length)] as Peer);
    neighbours.delete(peer);
    return {
      peer,
      connectSuccess: usable ? (peer.includes(':') && /^[\d.[]/.test(peer) ? 0.92 : 0.85) : 0,
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
