/**
 * What `spo resolve` and `spo relays resolve` report for each name, as data: its addresses with
 * record type, TTL and time taken, or its error, and a summary (resolved, NXDOMAIN, failed, timed
 * out). Rendered by src/ui/dns-report.ts.
 */
import { srvQueryName } from '../lib/address.js';
import { describeError } from '../lib/errors.js';
import { round3 } from '../lib/round.js';
import { DnsError } from './errors.js';
import type { AddressFamily, DnsResolver, ResolvedAddress } from './index.js';

export type NameStatus = 'resolved' | 'nxdomain' | 'failed' | 'timeout';

export interface NameResult {
  /** The name as given (or as registered). */
  name: string;
  /** `address` for A/AAAA, `srv` for SRV. */
  lookup: 'address' | 'srv';
  /** The name actually queried (SRV: with the CIP-0155 prefix). */
  queryName: string;
  status: NameStatus;
  addresses: ResolvedAddress[];
  cnames: string[];
  /** SRV: the records and the targets tried. */
  srv?: {
    priority: number;
    records: Array<{
      priority: number;
      weight: number;
      port: number;
      target: string;
      ttlSec: number;
      rawTtlSec: number;
    }>;
    targets: Array<{
      target: string;
      port: number;
      priority: number;
      weight: number;
      addresses: number;
      error?: string;
    }>;
  };
  elapsedMs: number;
  error?: { code: string; message: string; hint?: string };
}

export interface ResolveSummary {
  names: number;
  resolved: number;
  nxdomain: number;
  failed: number;
  timedOut: number;
}

export function statusOf(error: unknown): NameStatus {
  if (error instanceof DnsError) {
    if (error.code === 'DNS_NXDOMAIN') return 'nxdomain';
    if (error.code === 'DNS_TIMEOUT') return 'timeout';
  }
  return 'failed';
}

function errorJson(error: unknown): { code: string; message: string; hint?: string } {
  if (error instanceof DnsError) {
    return { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  }
  return { code: 'DNS_FAILED', message: describeError(error) };
}

export interface ResolveNameOptions {
  srv: boolean;
  family: AddressFamily;
  wholeGroup?: boolean;
  /** SRV: query the name as given (it already names its service), no CIP-0155 prefix. */
  asIs?: boolean;
  signal?: AbortSignal | undefined;
}

/** Resolves one name into a NameResult; DNS failures become its status, interruption is rethrown. */
export async function resolveName(
  resolver: DnsResolver,
  name: string,
  options: ResolveNameOptions,
): Promise<NameResult> {
  const started = performance.now();
  try {
    if (options.srv) {
      const r = await resolver.resolveSrv(name, {
        family: options.family,
        signal: options.signal,
        wholeGroup: options.wholeGroup ?? false,
        asIs: options.asIs ?? false,
      });
      return {
        name,
        lookup: 'srv',
        queryName: r.queryName,
        status: 'resolved',
        addresses: r.addresses,
        cnames: [],
        srv: {
          priority: r.priority,
          records: r.records.map((x) => ({
            priority: x.priority,
            weight: x.weight,
            port: x.port,
            target: x.target,
            ttlSec: x.ttlSec,
            rawTtlSec: x.ttl,
          })),
          targets: r.targets.map((t) => ({
            target: t.target,
            port: t.port,
            priority: t.priority,
            weight: t.weight,
            addresses: t.addresses.length,
            ...(t.error ? { error: t.error.code } : {}),
          })),
        },
        elapsedMs: round(r.elapsedMs),
      };
    }
    const r = await resolver.resolveAddresses(name, { family: options.family, signal: options.signal });
    return {
      name,
      lookup: 'address',
      queryName: r.name,
      status: 'resolved',
      addresses: r.addresses,
      cnames: r.cnames,
      elapsedMs: round(r.elapsedMs),
    };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (!(error instanceof DnsError)) throw error;
    const queryName = options.srv && !options.asIs ? srvQueryName(name) : name;
    return {
      name,
      lookup: options.srv ? 'srv' : 'address',
      queryName,
      status: statusOf(error),
      addresses: [],
      cnames: [],
      elapsedMs: round(performance.now() - started),
      error: errorJson(error),
    };
  }
}

/** Elapsed times for output: three decimals, as every figure in --json (src/lib/round.ts). */
const round = round3;

export function summarize(results: readonly NameResult[]): ResolveSummary {
  const s: ResolveSummary = { names: results.length, resolved: 0, nxdomain: 0, failed: 0, timedOut: 0 };
  for (const r of results) {
    if (r.status === 'resolved') s.resolved++;
    else if (r.status === 'nxdomain') s.nxdomain++;
    else if (r.status === 'timeout') s.timedOut++;
    else s.failed++;
  }
  return s;
}
