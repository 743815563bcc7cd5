/**
 * A whole probe run as one library call, for `spo probe`, the topology commands and the live node:
 * assemble the targets (addresses and registry pools, with the selection checked), resolve and probe
 * them under the scheduler, collect, take the reference tip (the relays' majority or Koios /tip)
 * and give the `--fail-on` verdict. Nothing here renders or parses flags; an interruption (the
 * signal's InterruptedError) ends the run with what was probed so far, marked as such.
 */
import type { AddressFamily } from '../dns/index.js';
import { DnsResolver } from '../dns/index.js';
import type { Endpoint } from '../lib/address.js';
import { describeError, InputError, InterruptedError } from '../lib/errors.js';
import { selectMatchingPools } from '../registry/filter.js';
import type { Pool } from '../registry/model.js';
import { type FailOn, failVerdict, ProbeCollector, type ProbeReport } from './aggregate.js';
import { koiosTip } from './koios-tip.js';
import { effectiveConcurrency } from './limits.js';
import type { ProbeTarget, ReferenceTip } from './model.js';
import { pipelineOptions } from './pipeline.js';
import { probeEndpoints, type RetryPolicy, type ScheduleProgress } from './scheduler.js';
import { targetsFromArgs, targetsFromPools } from './targets.js';

export interface PoolSelection {
  /** Pool ids (bech32, hex, `#N`); each must match. */
  pools?: readonly string[] | undefined;
  /** Tickers (case-insensitive); each must match. */
  tickers?: readonly string[] | undefined;
  /** The N pools with the most stake. */
  top?: number | undefined;
}

export interface ProbePlan {
  targets: ProbeTarget[];
  /** Pools chosen from the registry (they are reported even when none of their relays answered). */
  pools: Array<{ id: string; ticker?: string | undefined }>;
  /** The `--fail-on` default for this kind of run: any for addresses, pool for chosen pools, else none. */
  failOn: FailOn;
}

/**
 * The targets of a run: the addresses given, then the relays of the registry's pools (all of them,
 * or the selection). A selection that names a pool the registry does not have is an error, so a
 * mistyped id next to a good one is never dropped silently (from cron the run would exit 0).
 */
export function planProbe(o: {
  args?: readonly string[];
  defaultPort?: number;
  registry?: { pools: readonly Pool[]; source: string } | undefined;
  selection?: PoolSelection;
  includeUnusable?: boolean;
}): ProbePlan {
  const args = o.args ?? [];
  const targets: ProbeTarget[] = [];
  if (args.length > 0) targets.push(...targetsFromArgs(args, o.defaultPort ?? 3001));
  const sel = o.selection ?? {};
  const choosesPools = (sel.pools?.length ?? 0) > 0 || (sel.tickers?.length ?? 0) > 0;
  const pools: ProbePlan['pools'] = [];
  if (o.registry) {
    const all = o.registry.pools;
    const chosen = selectMatchingPools(
      all,
      {
        pools: sel.pools ? [...sel.pools] : undefined,
        tickers: sel.tickers ? [...sel.tickers] : undefined,
        top: sel.top,
      },
      o.registry.source,
    );
    for (const p of chosen) pools.push({ id: p.id, ticker: p.ticker });
    targets.push(...targetsFromPools(chosen, o.includeUnusable ?? false));
  }
  if (targets.length === 0) {
    throw new InputError('USAGE', 'nothing to probe', { hint: 'give addresses, or pools with --pool/--ticker/--top' });
  }
  const failOn: FailOn = args.length > 0 && !o.registry ? 'any' : choosesPools ? 'pool' : 'none';
  return { targets, pools, failOn };
}

export interface ProbeRunOptions {
  magic: number;
  /** DNS servers (default /etc/resolv.conf's) and the per-query timeout. */
  dnsServers?: Endpoint[];
  dnsTimeoutMs?: number;
  family?: AddressFamily;
  defaultPort?: number;
  wholeGroup?: boolean;
  stageTimeoutMs: number;
  samples: number;
  tip: boolean;
  /** Asked concurrency (default 2000), capped by the open-file limit. */
  concurrency?: number | undefined;
  retry?: RetryPolicy;
  failOn: FailOn;
  /** Measure the slot lag against Koios /tip instead of the relays' majority (falls back to it on failure). */
  koios?: { url: string; token?: string | undefined } | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: (p: ScheduleProgress) => void;
  /** Things the user should know that do not stop the run (the Koios fallback). */
  onNote?: (text: string) => void;
}

export interface ProbeRun {
  report: ProbeReport;
  verdict: { failOn: FailOn; failed: boolean; reason?: string };
  /** Ctrl-C/SIGTERM stopped the run: the report holds only what was probed before. */
  interrupted: boolean;
  concurrency: number;
}

/** Runs the plan: probes, collects, takes the reference tip, gives the verdict. */
export async function runProbe(plan: ProbePlan, o: ProbeRunOptions): Promise<ProbeRun> {
  const conc = effectiveConcurrency(o.concurrency);
  const resolver = new DnsResolver({
    ...(o.dnsServers && o.dnsServers.length > 0 ? { servers: o.dnsServers } : {}),
    ...(o.dnsTimeoutMs === undefined ? {} : { timeoutMs: o.dnsTimeoutMs }),
    concurrency: 32,
  });
  const collector = new ProbeCollector();
  for (const p of plan.pools) collector.expectPool(p.id, p.ticker);
  const started = performance.now();
  let interrupted = false;
  try {
    const options = await pipelineOptions({
      magic: o.magic,
      resolver,
      family: o.family ?? 'both',
      defaultPort: o.defaultPort ?? 3001,
      ...(o.wholeGroup === undefined ? {} : { wholeGroup: o.wholeGroup }),
      stageTimeoutMs: o.stageTimeoutMs,
      samples: o.samples,
      tip: o.tip,
      concurrency: conc.value,
      retry: o.retry ?? 'auto',
      signal: o.signal,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    for await (const r of probeEndpoints(plan.targets, options)) collector.add(r);
  } catch (error) {
    if (!(o.signal?.aborted && o.signal.reason instanceof InterruptedError)) throw error;
    interrupted = true;
  } finally {
    resolver.close();
  }
  let external: ReferenceTip | undefined;
  if (o.tip && o.koios && !interrupted) {
    // The probe's results are worth more than the reference: if Koios cannot answer, keep them and
    // measure the lag against the relays' majority, saying so.
    external = await koiosTip(o.koios.url, {
      timeoutMs: 15_000,
      token: o.koios.token,
      ...(o.signal ? { signal: o.signal } : {}),
    }).catch((error: unknown) => {
      if (o.signal?.aborted) throw error;
      o.onNote?.(`${describeError(error)}; the reference tip is the relays' majority instead (--reference peers)`);
      return undefined;
    });
  }
  const report = collector.finish(performance.now() - started, external, { probedOnly: interrupted });
  const reason = failVerdict(report, o.failOn);
  return {
    report,
    verdict: { failOn: o.failOn, failed: reason !== undefined, ...(reason === undefined ? {} : { reason }) },
    interrupted,
    concurrency: conc.value,
  };
}
