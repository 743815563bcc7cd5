/**
 * The world every policy of `spo simulate` shares: node placement, stake, the block schedule and
 * the initial random overlay (docs/simulation.md). Built once from the seed, so the policies are
 * compared on the same nodes, the same blocks and the same starting point.
 */
import { pickUniform } from '../governor/policies.js';
import { createRng, type Rng } from '../governor/rng.js';
import type { Peer } from '../governor/types.js';
import { linkDelayMs, type Placement, placeNodes } from './geo.js';

/** Slot length (Cardano mainnet: 1 s). */
export const SLOT_MS = 1_000;
/** Active slot coefficient: the chance that a slot has a block (mainnet: 0.05, a block every 20 s on average). */
export const ACTIVE_SLOT_COEFF = 0.05;
/** A round is one nominal churn interval: 3300 s + the mean of U(0, 600 s). */
export const ROUND_MS = 3_600_000;
/** Per-hop processing delay (header validation and forwarding): an assumption, docs/simulation.md. */
export const PROCESSING_MS = 50;
/**
 * The stake model, fitted to the mainnet peer snapshot shipped in data/ (470 big ledger pools hold
 * 90 % of the stake, their shares spanning a factor of about 10, 0.055-0.54 %; about 3,000 pools in
 * all): `BIG_SHARE` of the nodes hold `BIG_STAKE` of the stake, log-uniformly over a factor of
 * `BIG_SPREAD`; the others share the rest equally. docs/simulation.md.
 */
export const BIG_SHARE = 470 / 3000;
export const BIG_STAKE = 0.9;
export const BIG_SPREAD = 10;

export interface WorldOptions {
  nodes: number;
  rounds: number;
  /** The active (hot) target; the established and known targets follow from it (`targetsFor`). */
  hot: number;
  seed: number;
  processingMs?: number;
}

export interface Blocks {
  /** Slot of each block, ascending. */
  readonly slot: Int32Array;
  /** The node that minted it (drawn by stake). */
  readonly producer: Int32Array;
}

/** The first overlay, as the governor reaches it without churn: per node, known ⊇ established ⊇ hot. */
export interface InitialOverlay {
  /** Known peers of node i, in the order the governor learnt them. */
  readonly known: readonly (readonly number[])[];
  /** Established peers, in the order they were promoted. */
  readonly established: readonly (readonly number[])[];
  /** Hot peers, in the order they were promoted. */
  readonly hot: readonly (readonly number[])[];
}

export interface World {
  readonly n: number;
  readonly rounds: number;
  readonly seed: number;
  readonly processingMs: number;
  readonly placement: Placement;
  /** Relative stake of each node (sums to 1). */
  readonly stake: Float64Array;
  readonly blocks: Blocks;
  /** Peer names the governor sees (its `Peer` is an address-like string). */
  readonly names: readonly Peer[];
  readonly index: ReadonlyMap<Peer, number>;
  readonly overlay: InitialOverlay;
  readonly targets: SimTargets;
}

export interface SimTargets {
  known: number;
  established: number;
  active: number;
  root: number;
}

/**
 * The relay's deadline targets (root 60, known 150, established 30, active 20), with `--hot N`
 * replacing the active target: established is kept at least N + 10 (warm peers to promote from) and
 * known at least 5 × established. Big ledger peer targets are 0 (docs/simulation.md).
 */
export function targetsFor(hot: number, nodes: number): SimTargets {
  const active = Math.max(1, Math.floor(hot));
  const established = Math.max(30, active + 10);
  const known = Math.max(150, 5 * established);
  const cap = Math.max(1, nodes - 1);
  return {
    active: Math.min(active, cap),
    established: Math.min(established, cap),
    known: Math.min(known, cap),
    root: Math.min(60, cap),
  };
}

/** Independent generators per purpose, all from the one seed. */
export function worldRngs(seed: number): {
  placement: Rng;
  stake: Rng;
  schedule: Rng;
  overlay: Rng;
  governor: Rng;
  refill: Rng;
} {
  const root = createRng(seed);
  return {
    placement: root.split(),
    stake: root.split(),
    schedule: root.split(),
    overlay: root.split(),
    governor: root.split(),
    refill: root.split(),
  };
}

/** Stake per node by the stake model (normalised to sum to 1); which nodes are big is drawn too. */
export function drawStake(n: number, rng: Rng): Float64Array {
  const stake = new Float64Array(n);
  const big = Math.max(1, Math.round(BIG_SHARE * n));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  let bigTotal = 0;
  for (let k = 0; k < big; k++) {
    const s = BIG_SPREAD ** rng.next();
    stake[order[k] as number] = s;
    bigTotal += s;
  }
  const small = n - big;
  for (let k = 0; k < big; k++) {
    const i = order[k] as number;
    stake[i] = ((stake[i] as number) / bigTotal) * (small > 0 ? BIG_STAKE : 1);
  }
  for (let k = big; k < n; k++) stake[order[k] as number] = (1 - BIG_STAKE) / small;
  return stake;
}

/**
 * The block schedule: every slot has a block with probability `ACTIVE_SLOT_COEFF`, minted by a node
 * drawn by stake (one leader per slot: slot battles and forks are not modelled).
 */
export function drawBlocks(stake: Float64Array, slots: number, rng: Rng): Blocks {
  const n = stake.length;
  const cumulative = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += stake[i] as number;
    cumulative[i] = acc;
  }
  const slotList: number[] = [];
  const producers: number[] = [];
  for (let s = 0; s < slots; s++) {
    if (!rng.chance(ACTIVE_SLOT_COEFF)) continue;
    const r = rng.next() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) <= r) lo = mid + 1;
      else hi = mid;
    }
    slotList.push(s);
    producers.push(lo);
  }
  return { slot: Int32Array.from(slotList), producer: Int32Array.from(producers) };
}

/**
 * The overlay the governor reaches from its targets without churn: known peers drawn uniformly
 * from all other nodes (standing for ledger peers and peer sharing), established peers picked from
 * them and hot peers from those by the governor's own promotion policy (`pickUniform`).
 */
export function initialOverlay(
  n: number,
  targets: SimTargets,
  rng: Rng,
  names: readonly Peer[],
  index: ReadonlyMap<Peer, number>,
): InitialOverlay {
  const known: number[][] = [];
  const established: number[][] = [];
  const hot: number[][] = [];
  for (let i = 0; i < n; i++) {
    const k = drawOthers(n, i, targets.known, new Set(), rng);
    const est = pickUniform(
      k.map((j) => names[j] as Peer),
      targets.established,
      rng,
    ).map((p) => index.get(p) as number);
    const h = pickUniform(
      est.map((j) => names[j] as Peer),
      targets.active,
      rng,
    ).map((p) => index.get(p) as number);
    known.push(k);
    established.push(est);
    hot.push(h);
  }
  return { known, established, hot };
}

/** `count` distinct nodes other than `self` and those in `exclude`, uniformly at random. */
export function drawOthers(n: number, self: number, count: number, exclude: ReadonlySet<number>, rng: Rng): number[] {
  const available = n - 1 - exclude.size + (exclude.has(self) ? 1 : 0);
  const want = Math.min(count, Math.max(0, available));
  const out: number[] = [];
  const seen = new Set<number>();
  // Rejection sampling: `want` is small against n in every realistic run; the guard bounds the loop.
  for (let guard = 0; out.length < want && guard < 100 * (want + 10); guard++) {
    const j = rng.int(n);
    if (j === self || exclude.has(j) || seen.has(j)) continue;
    seen.add(j);
    out.push(j);
  }
  if (out.length < want) {
    for (let j = 0; j < n && out.length < want; j++) if (j !== self && !exclude.has(j) && !seen.has(j)) out.push(j);
  }
  return out;
}

export function peerName(i: number): Peer {
  return `node-${i}`;
}

export function buildWorld(options: WorldOptions): World {
  const n = Math.max(2, Math.floor(options.nodes));
  const rounds = Math.max(1, Math.floor(options.rounds));
  const rngs = worldRngs(options.seed);
  const placement = placeNodes(n, rngs.placement);
  const stake = drawStake(n, rngs.stake);
  const blocks = drawBlocks(stake, (rounds * ROUND_MS) / SLOT_MS, rngs.schedule);
  const names = Array.from({ length: n }, (_, i) => peerName(i));
  const index = new Map(names.map((p, i) => [p, i]));
  const targets = targetsFor(options.hot, n);
  const overlay = initialOverlay(n, targets, rngs.overlay, names, index);
  return {
    n,
    rounds,
    seed: options.seed,
    processingMs: options.processingMs ?? PROCESSING_MS,
    placement,
    stake,
    blocks,
    names,
    index,
    overlay,
    targets,
  };
}

/** Header delay over the link from `from` to `to`. */
export function delay(world: World, from: number, to: number): number {
  return linkDelayMs(world.placement, from, to, world.processingMs);
}
