/**
 * What `spo resolve` and `spo relays resolve` report for each name: its addresses with record type,
 * TTL and time taken, or its error, and a summary (resolved, NXDOMAIN, failed, timed out).
 */
import { srvQueryName } from '../lib/address.js';
import { describeError } from '../lib/errors.js';
import type { Palette } from '../ui/color.js';
import { printable } from '../ui/sanitize.js';
import { renderTable } from '../ui/table.js';
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

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

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

interface Row {
  name: string;
  type: string;
  address: string;
  ttl: string;
  raw: string;
  ms: string;
  failed: boolean;
}

/** One row per address (failed names: one row with the error), then the summary line. */
export function renderResults(results: readonly NameResult[], c: Palette): string {
  const rows: Row[] = [];
  for (const r of results) {
    const shown = r.lookup === 'srv' ? `${r.name} (SRV ${r.queryName})` : r.name;
    if (r.status !== 'resolved') {
      rows.push({
        name: shown,
        type: r.error?.code ?? r.status,
        address: r.error?.message ?? '',
        ttl: '',
        raw: '',
        ms: r.elapsedMs.toFixed(1),
        failed: true,
      });
      continue;
    }
    r.addresses.forEach((a, i) => {
      const addr =
        a.port === undefined ? a.address : a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
      const via = a.target ? ` (${a.target})` : '';
      rows.push({
        name: i === 0 ? shown : '',
        type: r.lookup === 'srv' ? `SRV/${a.recordType}` : a.recordType,
        address: addr + via,
        ttl: String(a.ttlSec),
        raw: String(a.rawTtlSec),
        ms: i === 0 ? r.elapsedMs.toFixed(1) : '',
        failed: false,
      });
    });
  }
  // Names, SRV targets and error messages come from DNS answers: escapes are shown, never sent.
  for (const r of rows) {
    r.name = printable(r.name);
    r.type = printable(r.type);
    r.address = printable(r.address);
  }
  const table = renderTable(
    rows,
    [
      { header: 'NAME', get: (r) => r.name },
      { header: 'TYPE', get: (r) => r.type, style: (t, r) => (r.failed ? c.fail(t) : t) },
      { header: 'ADDRESS', get: (r) => r.address, style: (t, r) => (r.failed ? c.dim(t) : t) },
      { header: 'TTL s', get: (r) => r.ttl, align: 'right' },
      { header: 'RAW TTL s', get: (r) => r.raw, align: 'right' },
      { header: 'TIME ms', get: (r) => r.ms, align: 'right' },
    ],
    c.bold,
  );
  return `${table}\n\n${summaryLine(summarize(results), c)}`;
}

export function summaryLine(s: ResolveSummary, c: Palette): string {
  const parts = [
    c.ok(`${s.resolved} resolved`),
    s.nxdomain > 0 ? c.fail(`${s.nxdomain} NXDOMAIN`) : `${s.nxdomain} NXDOMAIN`,
    s.failed > 0 ? c.fail(`${s.failed} failed`) : `${s.failed} failed`,
    s.timedOut > 0 ? c.warn(`${s.timedOut} timed out`) : `${s.timedOut} timed out`,
  ];
  return `${s.names} name${s.names === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
