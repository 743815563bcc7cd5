/** Selection of pools and relays for the relays commands. Pure. */
import { SpoError } from '../lib/errors.js';
import { poolIdHex } from './cardano-cli.js';
import type { Pool, RelayKind } from './model.js';
import { sortByStake } from './stake.js';

export interface PoolFilter {
  pools?: string[] | undefined;
  tickers?: string[] | undefined;
  kind?: RelayKind | undefined;
  /** Keep the N largest pools (after the other filters). */
  top?: number | undefined;
}

/** Filters pools (by id: bech32, hex or `#N`; by ticker, case-insensitive) and relays (by kind); sorted by stake. */
export function selectPools(pools: readonly Pool[], f: PoolFilter): Pool[] {
  const ids = f.pools?.length ? new Set(f.pools.map((p) => poolIdHex(p) ?? p)) : undefined;
  const tickers = f.tickers?.length ? new Set(f.tickers.map((t) => t.toLowerCase())) : undefined;
  let out = sortByStake(pools).filter(
    (p) =>
      (!ids || ids.has(poolIdHex(p.id) ?? p.id)) &&
      (!tickers || (p.ticker !== undefined && tickers.has(p.ticker.toLowerCase()))),
  );
  if (f.kind) {
    out = out
      .map((p) => ({ ...p, relays: p.relays.filter((r) => r.kind === f.kind) }))
      .filter((p) => p.relays.length > 0);
  }
  if (f.top !== undefined) out = out.slice(0, f.top);
  return out;
}

/**
 * Every --pool and --ticker must match a pool of the registry: an empty table and exit 0 for a
 * mistyped id, a deregistered pool or a ticker the source cannot know would read as "no relays".
 * Throws REGISTRY_NO_TICKERS when tickers are asked of a source that has none at all (peer
 * snapshots, the embedded registry), else POOL_NOT_FOUND naming each filter that matches nothing.
 */
export function requireMatches(pools: readonly Pool[], f: PoolFilter, source: string): void {
  const tickers = f.tickers ?? [];
  if (tickers.length > 0 && !pools.some((p) => p.ticker !== undefined)) {
    const asked = tickers.map((t) => `--ticker ${t}`).join(', ');
    throw new SpoError('REGISTRY_NO_TICKERS', `${source} has no tickers, so ${asked} cannot match`, {
      hint: "tickers come from the pools' metadata: use --source koios (or blockfrost), or select by id with --pool",
      details: { tickers },
    });
  }
  const unmatched = [
    ...(f.pools ?? []).filter((id) => selectPools(pools, { pools: [id] }).length === 0),
    ...tickers.filter((t) => selectPools(pools, { tickers: [t] }).length === 0),
  ];
  if (unmatched.length > 0) {
    throw new SpoError('POOL_NOT_FOUND', `no pool of ${source} matches ${unmatched.join(', ')}`, {
      hint: 'check the pool id (bech32, hex or #N) or ticker with spo relays list',
      details: { unmatched },
    });
  }
}

/**
 * The pools a selection keeps, after checking that every --pool and --ticker matches
 * (requireMatches): the one entry point of the commands that take these filters.
 */
export function selectMatchingPools(pools: readonly Pool[], f: PoolFilter, source: string): Pool[] {
  requireMatches(pools, f, source);
  return selectPools(pools, f);
}

export function countByKind(pools: readonly Pool[]): Record<RelayKind, number> {
  const c: Record<RelayKind, number> = { ipv4: 0, ipv6: 0, dns: 0, srv: 0 };
  for (const p of pools) for (const r of p.relays) c[r.kind]++;
  return c;
}
