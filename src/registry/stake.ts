/** Stake arithmetic on pools. Pure. */

/** Pools sorted by relative stake, largest first (unknown stake last; ties keep source order). */
export function sortByStake<P extends { stake?: number | undefined }>(pools: readonly P[]): P[] {
  return pools
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (b.p.stake ?? -1) - (a.p.stake ?? -1) || a.i - b.i)
    .map((x) => x.p);
}

/**
 * The big ledger pools: sorted by stake descending and kept until their cumulative relative stake
 * reaches `fraction`; the pool that crosses the line is kept (as cardano-node does, so real
 * snapshots end just above 0.90). Pools without a known stake are never big.
 */
export function bigLedgerCut<P extends { stake?: number | undefined }>(pools: readonly P[], fraction = 0.9): P[] {
  const out: P[] = [];
  let acc = 0;
  for (const p of sortByStake(pools)) {
    if (acc >= fraction || p.stake === undefined) break;
    out.push(p);
    acc += p.stake;
  }
  return out;
}

/** Relative stakes from absolute amounts (lovelace): each over the sum; undefined amounts stay unknown. */
export function relativeStakes(amounts: ReadonlyArray<number | undefined>): Array<number | undefined> {
  let total = 0;
  for (const a of amounts) if (a !== undefined) total += a;
  return amounts.map((a) => (a === undefined ? undefined : total > 0 ? a / total : 0));
}
