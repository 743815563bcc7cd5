/**
 * Builds a mock-environment scenario for `spo governor dry-run` from what an operator has: the
 * node configuration's targets, the topology's roots and the stake pool registry. Pure: the
 * command reads the files; every simulated peer's behaviour is drawn from the seed.
 */
import type { Relay } from '../registry/model.js';
import type { ChurnRegime } from './churn.js';
import type { LedgerPool } from './ledger-peers.js';
import type { MockEnvConfig, SimPeer } from './mock-env.js';
import { DEFAULT_POLICY } from './policies.js';
import { createRng } from './rng.js';
import {
  type ConsensusMode,
  type LedgerStateJudgement,
  type LocalRootGroupConfig,
  type Peer,
  RELAY_DEFAULT_TARGETS,
  type RootPeerResult,
  SYNC_DEFAULT_TARGETS,
  type Targets,
} from './types.js';

/** cardano-node configuration keys for the targets (`POM.hs`). */
export const TARGET_KEYS: Readonly<Record<keyof Targets, string>> = {
  root: 'TargetNumberOfRootPeers',
  known: 'TargetNumberOfKnownPeers',
  established: 'TargetNumberOfEstablishedPeers',
  active: 'TargetNumberOfActivePeers',
  knownBigLedger: 'TargetNumberOfKnownBigLedgerPeers',
  establishedBigLedger: 'TargetNumberOfEstablishedBigLedgerPeers',
  activeBigLedger: 'TargetNumberOfActiveBigLedgerPeers',
};

/** Genesis sync targets (`SyncTargetNumberOf*`, newer `POM.hs`). */
export const SYNC_TARGET_KEYS: Readonly<Record<keyof Targets, string>> = {
  root: 'SyncTargetNumberOfRootPeers',
  known: 'SyncTargetNumberOfKnownPeers',
  established: 'SyncTargetNumberOfEstablishedPeers',
  active: 'SyncTargetNumberOfActivePeers',
  knownBigLedger: 'SyncTargetNumberOfKnownBigLedgerPeers',
  establishedBigLedger: 'SyncTargetNumberOfEstablishedBigLedgerPeers',
  activeBigLedger: 'SyncTargetNumberOfActiveBigLedgerPeers',
};

export interface NodeConfigTargets {
  targets: Targets;
  /** Genesis sync targets: `SyncTargetNumberOf*`, defaults `SYNC_DEFAULT_TARGETS`. */
  syncTargets: Targets;
  /** `ConsensusMode` (`PraosMode` / `GenesisMode`), when set. */
  consensusMode?: ConsensusMode;
  /** The keys that were present (the others took the relay defaults). */
  found: string[];
  /** Keys present but not non-negative integers. */
  invalid: string[];
  /** `PeerSharing`, when set. */
  peerSharing?: boolean;
}

/** Reads the TargetNumberOf* keys of a parsed node configuration; missing keys take the relay defaults. */
export function targetsFromNodeConfig(doc: Record<string, unknown>): NodeConfigTargets {
  const targets: Targets = { ...RELAY_DEFAULT_TARGETS };
  const found: string[] = [];
  const invalid: string[] = [];
  for (const [k, key] of Object.entries(TARGET_KEYS) as Array<[keyof Targets, string]>) {
    if (!(key in doc)) continue;
    const v = doc[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
      targets[k] = v;
      found.push(key);
    } else invalid.push(key);
  }
  const syncTargets: Targets = { ...SYNC_DEFAULT_TARGETS };
  for (const [k, key] of Object.entries(SYNC_TARGET_KEYS) as Array<[keyof Targets, string]>) {
    if (!(key in doc)) continue;
    const v = doc[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
      syncTargets[k] = v;
    } else invalid.push(key);
  }
  const cm = doc.ConsensusMode;
  const ps = doc.PeerSharing;
  return {
    targets,
    syncTargets,
    ...(cm === 'GenesisMode'
      ? { consensusMode: 'genesis' as const }
      : cm === 'PraosMode'
        ? { consensusMode: 'praos' as const }
        : {}),
    found,
    invalid,
    ...(typeof ps === 'boolean' ? { peerSharing: ps } : ps === 'PeerSharingEnabled' ? { peerSharing: true } : {}),
    ...(ps === 'PeerSharingDisabled' ? { peerSharing: false } : {}),
  };
}

/** A registry relay as a peer id: `host:port`, `[v6]:port`; an SRV name stays a bare name. */
export function relayPeer(relay: Pick<Relay, 'kind' | 'host' | 'port'>): Peer {
  if (relay.kind === 'srv') return relay.host;
  const port = relay.port ?? 3001;
  return relay.kind === 'ipv6' ? `[${relay.host}]:${port}` : `${relay.host}:${port}`;
}

/** Splits a peer id into address and port (null for an SRV name). */
export function splitPeer(peer: Peer): { address: string; port: number | null } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(peer);
  if (v6) return { address: v6[1] as string, port: Number(v6[2]) };
  const m = /^(.*):(\d+)$/.exec(peer);
  if (m) return { address: m[1] as string, port: Number(m[2]) };
  return { address: peer, port: null };
}

export interface ScenarioInput {
  seed: number;
  /** Registry pools (relative stake; relays with hygiene flags never answer). */
  pools: ReadonlyArray<{ id: string; stake?: number; relays: readonly Relay[] }>;
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
  judgementScript?: Array<{ at: number; judgement: LedgerStateJudgement }>;
  keepTrace: boolean;
}

/**
 * The simulated network: every registry relay and every configured root is a peer. Relays with
 * hygiene flags (loopback, private addresses, port 0...) never accept connections; the others
 * accept most of the time, with random latencies, some activation failures, asynchronous demotions
 * (half of the peers drop their hot connection after 1-6 h) and a random peer-sharing graph.
 */
export function buildScenario(input: ScenarioInput): MockEnvConfig {
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
      latency: 0.02 + 0.28 * rng.next(),
      activateFailure: 0.02,
      hotLifetime: rng.chance(0.5) ? 3600 + 5 * 3600 * rng.next() : undefined,
      asyncErrorShare: 0.3,
      sharing: rng.chance(0.8),
      neighbours: [...neighbours],
      headerDelay: 0.3 + 2.2 * rng.next(),
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
