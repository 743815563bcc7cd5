/**
 * Random simulated networks for the governor's property tests and benchmarks: addresses
 * 10.x.y.z:3001, random latencies, failures, asynchronous demotions and a peer-sharing graph, all
 * drawn from a seed.
 */
import type { LedgerPool } from '../governor/ledger-peers.js';
import { createRng } from '../governor/rng.js';
import type { LocalRootGroupConfig, Peer, RootPeerResult, Targets } from '../governor/types.js';
import type { SimNodeConfig } from './simulated-node.js';
import type { SimPeer } from './world.js';

export interface RandomEnvOptions {
  peers: number;
  /** Average number of peer-sharing neighbours. */
  degree?: number;
  localRootGroups?: number;
  publicRoots?: number;
  pools?: number;
  targets?: Targets;
  churn?: boolean;
  /** Share of peers that always fail to connect. */
  deadShare?: number;
}

/** A random network: addresses 10.x.y.z:3001, random latencies, failures and a sharing graph. */
export function randomEnvironment(seed: number, o: RandomEnvOptions): SimNodeConfig {
  const rng = createRng(seed ^ 0x5bd1e995);
  // One string per address, shared by every place that names the peer (its spec, neighbour lists,
  // roots, pools): the world's and the governor's Map lookups then match by identity instead of
  // comparing the characters of equal strings built separately.
  const format = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:3001`;
  const ids = Array.from({ length: o.peers }, (_, i) => format(i));
  const addr = (i: number) => ids[i] ?? format(i);
  const peers: SimPeer[] = [];
  const degree = o.degree ?? 8;
  for (let i = 0; i < o.peers; i++) {
    const dead = rng.chance(o.deadShare ?? 0.05);
    const neighbours: Peer[] = [];
    for (let k = 0; k < degree; k++) neighbours.push(addr(rng.int(o.peers)));
    peers.push({
      peer: addr(i),
      connectSuccess: dead ? 0 : 0.7 + 0.3 * rng.next(),
      latencyMs: 10 + 300 * rng.next(),
      activateFailure: 0.05 * rng.next(),
      hotLifetimeMs: rng.chance(0.5) ? 600_000 + 3_600_000 * rng.next() : undefined,
      asyncErrorShare: 0.3,
      sharing: rng.chance(0.8),
      neighbours: [...new Set(neighbours)],
      headerDelayMs: 200 + 2_000 * rng.next(),
    });
  }
  let next = 0;
  const take = () => addr(next++ % Math.max(1, o.peers));
  const localRoots: LocalRootGroupConfig[] = [];
  for (let g = 0; g < (o.localRootGroups ?? 0); g++) {
    const size = 1 + rng.int(3);
    const members = Array.from({ length: size }, () => ({ peer: take() }));
    const warm = 1 + rng.int(size);
    localRoots.push({ hotValency: 1 + rng.int(warm), warmValency: warm, peers: members });
  }
  const publicRoots: RootPeerResult[] = Array.from({ length: o.publicRoots ?? 0 }, () => ({
    peer: take(),
    kind: 'public-root' as const,
    advertise: rng.chance(0.5),
  }));
  const raw = Array.from({ length: o.pools ?? 0 }, () => rng.next() ** 3);
  const total = raw.reduce((a, b) => a + b, 0) || 1;
  // relative stakes (they sum to 1, as the ledger's do)
  const ledgerPools: LedgerPool<Peer>[] = raw.map((w, i) => ({ id: `pool${i}`, stake: w / total, relays: [take()] }));
  return {
    seed,
    peers,
    targets: o.targets ?? {
      root: 10,
      known: 60,
      established: 20,
      active: 8,
      knownBigLedger: 8,
      establishedBigLedger: 5,
      activeBigLedger: 2,
    },
    localRoots,
    publicRoots,
    ledgerPools,
    useLedger: (o.pools ?? 0) > 0,
    churn: o.churn ?? false,
  };
}
