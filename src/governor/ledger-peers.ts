/**
 * Ledger-peer picking as the reference's ledger-peers worker does it (governor.md §6.4):
 * - ordinary ledger peers: each pool's relative stake is replaced by its square root and
 *   renormalised (so smaller pools get proportionally more downstream peers), then the cumulative
 *   distribution is sampled `count` times with replacement (duplicates collapse); for each chosen
 *   pool one relay is chosen uniformly;
 * - big ledger peers: pools by stake descending, kept until the running total reaches 90% (the pool
 *   crossing the quota is included), sampled linearly in stake.
 * Pure: the randomness comes from the injected generator.
 */
import type { Rng } from './rng.js';

/** The part of a registry pool that ledger-peer picking needs (structurally a registry `Pool`). */
export interface LedgerPool<R = unknown> {
  id: string;
  /** Relative stake, 0..1; missing or non-positive stake never gets picked. */
  stake?: number;
  relays: readonly R[];
}

export interface PickedLedgerPeer<R = unknown> {
  poolId: string;
  relay: R;
  stake: number;
}

/** The reference's `bigLedgerPeerQuota`. */
export const BIG_LEDGER_PEER_QUOTA = 0.9;

function stakeOf(p: LedgerPool): number {
  const s = p.stake;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? s : 0;
}

/** First index whose cumulative weight is >= point (binary search over the prefix sums). */
function findCumulative(cumulative: readonly number[], point: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) >= point) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function sample<R>(
  pools: readonly LedgerPool<R>[],
  weights: readonly number[],
  count: number,
  rng: Rng,
): PickedLedgerPeer<R>[] {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) {
    total += w;
    cumulative.push(total);
  }
  if (total <= 0 || count <= 0) return [];
  const chosen = new Set<number>();
  const out: PickedLedgerPeer<R>[] = [];
  for (let i = 0; i < count; i++) {
    const idx = findCumulative(cumulative, rng.next() * total);
    if (chosen.has(idx)) continue; // sampled with replacement; duplicates collapse
    chosen.add(idx);
    const pool = pools[idx] as LedgerPool<R>;
    if (pool.relays.length === 0) continue;
    const relay = pool.relays[rng.int(pool.relays.length)] as R;
    out.push({ poolId: pool.id, relay, stake: stakeOf(pool) });
  }
  return out;
}

/**
 * Picks up to `count` ledger peers weighted by the square root of stake (at most one relay per pool;
 * fewer than `count` when the draws repeat pools, as the reference).
 */
export function pickLedgerPeers<R>(pools: readonly LedgerPool<R>[], count: number, rng: Rng): PickedLedgerPeer<R>[] {
  const usable = pools.filter((p) => stakeOf(p) > 0 && p.relays.length > 0);
  return sample(
    usable,
    usable.map((p) => Math.sqrt(stakeOf(p))),
    count,
    rng,
  );
}

/**
 * The big ledger pools: sorted by stake descending (ties keep their order), kept until the
 * cumulative relative stake reaches the quota (the pool that crosses it is included), as the
 * reference's `accBigPoolStake` and the registry's `bigLedgerCut` do.
 */
export function bigLedgerPools<R>(pools: readonly LedgerPool<R>[], fraction = BIG_LEDGER_PEER_QUOTA): LedgerPool<R>[] {
  const sorted = pools
    .filter((p) => stakeOf(p) > 0)
    .map((p, i) => ({ p, i }))
    .sort((a, b) => stakeOf(b.p) - stakeOf(a.p) || a.i - b.i)
    .map((x) => x.p);
  const out: LedgerPool<R>[] = [];
  let acc = 0;
  for (const p of sorted) {
    if (acc >= fraction) break;
    out.push(p);
    acc += stakeOf(p);
  }
  return out;
}

/** Picks up to `count` big ledger peers, linearly weighted by stake among the big ledger pools. */
export function pickBigLedgerPeers<R>(
  pools: readonly LedgerPool<R>[],
  count: number,
  rng: Rng,
  fraction = BIG_LEDGER_PEER_QUOTA,
): PickedLedgerPeer<R>[] {
  return pickFromBigLedgerPools(bigLedgerPools(pools, fraction), count, rng);
}

/**
 * `pickBigLedgerPeers` for a caller that keeps the big ledger pools (`bigLedgerPools`) while the
 * stake distribution stays the same, as the node's ledger-peers worker caches it: no sort per pick.
 */
export function pickFromBigLedgerPools<R>(
  big: readonly LedgerPool<R>[],
  count: number,
  rng: Rng,
): PickedLedgerPeer<R>[] {
  const usable = big.filter((p) => p.relays.length > 0);
  return sample(usable, usable.map(stakeOf), count, rng);
}
