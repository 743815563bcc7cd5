/**
 * Aggregation of the per-address stream: per relay, per pool ("2 of 3 relays reachable"), the
 * summary with counts and an RTT histogram, the reference tip and slot lags, worst-first order,
 * and the `--fail-on` rule. Pure.
 */
import { counted } from '../lib/plural.js';
import type {
  HistogramBucket,
  PoolReachability,
  ProbeAddressResult,
  ProbePoolResult,
  ProbeRelayResult,
  ProbeStatus,
  ProbeSummary,
  ReferenceTip,
} from './model.js';

import { referenceFromPeers, slotLag } from './reference.js';
import { severity, stageOf, stageSeverity } from './status.js';

export const HISTOGRAM_BOUNDS_MS = [10, 25, 50, 100, 200, 500, 1000] as const;

/** The RTT an address is judged by: the median keep-alive RTT, else the handshake time. */
export function rttOf(r: ProbeAddressResult): number | undefined {
  return r.status === 'ok' ? (r.rttMs ?? r.handshakeMs) : undefined;
}

export function histogram(values: Iterable<number>): HistogramBucket[] {
  const counts = new Array<number>(HISTOGRAM_BOUNDS_MS.length + 1).fill(0);
  for (const v of values) {
    let i = HISTOGRAM_BOUNDS_MS.findIndex((b) => v < b);
    if (i < 0) i = HISTOGRAM_BOUNDS_MS.length;
    counts[i] = (counts[i] as number) + 1;
  }
  return counts.map((count, i) => ({ ltMs: HISTOGRAM_BOUNDS_MS[i] ?? null, count }));
}

function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

// An SRV relay is one registered relay whatever ports its targets listen on (--whole-group draws several).
const relayKey = (r: ProbeAddressResult): string =>
  `${r.relayKind}|${r.relay}|${r.relayKind === 'srv' ? '' : (r.port ?? '')}`;
const endpointKey = (r: ProbeAddressResult): string => `${r.address}|${r.port ?? ''}`;

/** By the stage the address failed at (PROTOCOL_ERROR & co. belong to no stage by name: their stage says). */
const rank = (r: ProbeAddressResult): number => (r.status === 'ok' ? 0 : stageSeverity(stageOf(r.status) ?? r.stage));

/** Worst first: failures by stage (resolution first), then the slowest and most lagging answers. */
export function compareWorstFirst(a: ProbeAddressResult, b: ProbeAddressResult): number {
  const s = rank(b) - rank(a);
  if (s !== 0) return s;
  if (a.status !== b.status) return a.status.localeCompare(b.status);
  const lag = (b.slotLag ?? 0) - (a.slotLag ?? 0);
  if (lag !== 0) return lag;
  const rtt = (rttOf(b) ?? 0) - (rttOf(a) ?? 0);
  if (rtt !== 0) return rtt;
  return a.pool.localeCompare(b.pool) || a.relay.localeCompare(b.relay) || a.address.localeCompare(b.address);
}

export interface ProbeReport {
  summary: ProbeSummary;
  reference?: ReferenceTip;
  pools: ProbePoolResult[];
  addresses: ProbeAddressResult[];
}

/**
 * Collects the stream. Keeps one compact record per (relay, address), which the outputs need anyway;
 * no per-sample arrays (the scheduler reduces keep-alive samples to median/min/max).
 */
export class ProbeCollector {
  private readonly results: ProbeAddressResult[] = [];
  private readonly endpointRelays = new Map<string, number>();
  private readonly poolOrder = new Map<string, number>();
  private readonly tickers = new Map<string, string>();
  retried = 0;

  /** Pools in the order they were asked for (stake order), so pools without results still show. */
  expectPool(id: string, ticker?: string): void {
    if (!this.poolOrder.has(id)) this.poolOrder.set(id, this.poolOrder.size);
    if (ticker !== undefined) this.tickers.set(id, ticker);
  }

  add(r: ProbeAddressResult): void {
    this.results.push(r);
    if (r.attempts > 1) this.retried++;
    if (r.port !== null && r.family !== undefined) {
      const k = endpointKey(r);
      this.endpointRelays.set(k, (this.endpointRelays.get(k) ?? 0) + 1);
    }
    this.expectPool(r.pool, r.ticker);
  }

  get count(): number {
    return this.results.length;
  }

  /**
   * Finishes the run: shared flags, reference tip and lags, aggregation, worst-first order.
   * `probedOnly` (an interrupted run): pools without any result are left out, not shown unreachable.
   */
  finish(elapsedMs: number, external?: ReferenceTip, options: { probedOnly?: boolean } = {}): ProbeReport {
    for (const r of this.results) {
      if (r.port !== null && r.family !== undefined && (this.endpointRelays.get(endpointKey(r)) ?? 0) > 1) {
        r.shared = true;
      }
    }
    // One tip per endpoint: a shared endpoint must not vote twice.
    const tips = new Map<string, NonNullable<ProbeAddressResult['tip']>>();
    for (const r of this.results) if (r.tip) tips.set(endpointKey(r), r.tip);
    const reference = external ?? referenceFromPeers([...tips.values()]);
    if (reference) for (const r of this.results) if (r.tip) r.slotLag = slotLag(r.tip, reference);

    const byStatus: Record<string, number> = {};
    const rtts: number[] = [];
    let ok = 0;
    for (const r of this.results) {
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      if (r.status === 'ok') ok++;
      const v = rttOf(r);
      if (v !== undefined) rtts.push(v);
    }
    rtts.sort((a, b) => a - b);

    let pools = this.aggregatePools();
    if (options.probedOnly) {
      const probed = new Set(this.results.map((r) => r.pool));
      pools = pools.filter((p) => probed.has(p.id));
    }
    const relays = pools.reduce((n, p) => n + p.relays.length, 0);
    const reachableRelays = pools.reduce((n, p) => n + p.reachableRelays, 0);
    const rtt: ProbeSummary['rtt'] = { histogram: histogram(rtts) };
    const med = quantile(rtts, 0.5);
    const p90 = quantile(rtts, 0.9);
    if (med !== undefined) rtt.medianMs = med;
    if (p90 !== undefined) rtt.p90Ms = p90;
    if (rtts.length > 0) {
      rtt.minMs = rtts[0] as number;
      rtt.maxMs = rtts[rtts.length - 1] as number;
    }
    const summary: ProbeSummary = {
      addresses: this.results.length,
      ok,
      failed: this.results.length - ok,
      byStatus,
      relays,
      reachableRelays,
      pools: pools.length,
      reachablePools: pools.filter((p) => p.status === 'reachable').length,
      partialPools: pools.filter((p) => p.status === 'partial').length,
      unreachablePools: pools.filter((p) => p.status === 'unreachable').length,
      rtt,
      retried: this.retried,
      elapsedMs: Math.round(elapsedMs),
    };
    const addresses = [...this.results].sort(compareWorstFirst);
    return { summary, ...(reference ? { reference } : {}), pools, addresses };
  }

  private aggregatePools(): ProbePoolResult[] {
    const byPool = new Map<string, Map<string, ProbeRelayResult & { firstFailure?: ProbeStatus }>>();
    for (const id of this.poolOrder.keys()) byPool.set(id, new Map());
    for (const r of this.results) {
      const relays = byPool.get(r.pool) as Map<string, ProbeRelayResult & { firstFailure?: ProbeStatus }>;
      const k = relayKey(r);
      let rel = relays.get(k);
      if (!rel) {
        rel = {
          host: r.relay,
          kind: r.relayKind,
          port: r.relayKind === 'srv' ? null : r.port,
          status: r.status,
          addresses: 0,
          reachableAddresses: 0,
        };
        relays.set(k, rel);
      }
      rel.addresses++;
      if (r.status === 'ok') {
        rel.reachableAddresses++;
        rel.status = 'ok';
      } else if (rel.reachableAddresses === 0 && severity(r.status) > severity(rel.status)) {
        rel.status = r.status;
      }
    }
    const pools: Array<ProbePoolResult & { order: number }> = [];
    for (const [id, relayMap] of byPool) {
      const relays = [...relayMap.values()].map(({ firstFailure: _f, ...rest }) => rest);
      const reachableRelays = relays.filter((r) => r.status === 'ok').length;
      const status: PoolReachability =
        reachableRelays === relays.length && relays.length > 0
          ? 'reachable'
          : reachableRelays > 0
            ? 'partial'
            : 'unreachable';
      const ticker = this.tickers.get(id);
      pools.push({
        id,
        ...(ticker === undefined ? {} : { ticker }),
        relays,
        reachableRelays,
        status,
        summary: `${reachableRelays} of ${relays.length} relay${relays.length === 1 ? '' : 's'} reachable`,
        order: this.poolOrder.get(id) ?? 0,
      });
    }
    const rank: Record<PoolReachability, number> = { unreachable: 0, partial: 1, reachable: 2 };
    pools.sort((a, b) => rank[a.status] - rank[b.status] || a.order - b.order);
    return pools.map(({ order: _o, ...p }) => p);
  }
}

export type FailOn = 'any' | 'pool' | 'none';

/** Whether the run counts as failed under `--fail-on`, and why (for the one-line error). */
export function failVerdict(report: ProbeReport, failOn: FailOn): string | undefined {
  const s = report.summary;
  if (failOn === 'none') return undefined;
  if (failOn === 'any') {
    return s.failed > 0 ? `${s.failed} of ${counted(s.addresses, 'address', 'addresses')} unreachable` : undefined;
  }
  const down = s.unreachablePools;
  return down > 0 ? `${down} of ${counted(s.pools, 'pool')} unreachable (no relay answered)` : undefined;
}
