/** Renderers of a probe report: the table for people, CSV, and the JSON document. Pure. */
import { formatEndpoint } from '../lib/address.js';
import { csvField } from '../lib/csv.js';
import { counted } from '../lib/plural.js';
import { printable } from '../lib/sanitize.js';
import type { ProbeReport } from '../probe/aggregate.js';
import type { ProbeAddressResult, ReferenceTip } from '../probe/model.js';
import { DEFAULT_WINDOW_SLOTS } from '../probe/reference.js';
import { ARGS_POOL } from '../probe/targets.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

export interface ProbeJson {
  network: string;
  magic: number;
  source: string;
  options: { concurrency: number; timeoutMs: number; samples: number; tip: boolean; retry: string };
  summary: ProbeReport['summary'];
  reference?: ReferenceTip;
  pools: ProbeReport['pools'];
  /** Every probed address, worst first, each with `address`, `port` and `status`. */
  addresses: ProbeAddressResult[];
}

const one = (v: number | undefined): string | undefined => (v === undefined ? undefined : v.toFixed(1));

// Registry text (names, tickers) is anyone's: control characters are shown escaped (printable), so a
// relay name cannot send terminal escapes or forge rows of the table.

const shortId = (id: string): string => printable(id.length > 20 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id);

function where(r: ProbeAddressResult): string {
  return printable(r.port === null ? r.address : formatEndpoint({ host: r.address, port: r.port }));
}

/** `not probed (loopback)` for a registered address that was skipped, so the table says why without --json. */
function unprobed(r: ProbeAddressResult): string {
  if (r.status !== 'UNUSABLE_ADDRESS') return '';
  const why = /public peer \(([^)]*)\)/.exec(r.message ?? '')?.[1];
  return `not probed${why ? ` (${why})` : ''}`;
}

/** The table: one row per address, worst first, then the pools that are not fully reachable and a summary. */
export function renderProbeTable(report: ProbeReport, c: Palette, withTip: boolean): string {
  const statusStyle = (t: string, r: ProbeAddressResult): string =>
    r.status === 'ok' ? c.ok(t) : r.stage === 'keepalive' || r.stage === 'tip' ? c.warn(t) : c.fail(t);
  const cols: Array<Parameters<typeof renderTable<ProbeAddressResult>>[1][number]> = [
    { header: 'STATUS', get: (r) => r.status, style: statusStyle },
    { header: 'POOL', get: (r) => shortId(r.pool) },
    { header: 'TICKER', get: (r) => (r.ticker === undefined ? undefined : printable(r.ticker)) },
    { header: 'RELAY', get: (r) => (r.relay === r.address ? '' : printable(r.relay)) },
    { header: 'ADDRESS', get: (r) => where(r) },
    { header: 'CONNECT ms', get: (r) => one(r.connectMs), align: 'right' },
    { header: 'HANDSHAKE ms', get: (r) => one(r.handshakeMs), align: 'right' },
    { header: 'RTT ms', get: (r) => one(r.rttMs), align: 'right' },
    { header: 'VER', get: (r) => r.version, align: 'right' },
  ];
  if (withTip) {
    cols.push(
      { header: 'SLOT', get: (r) => r.tip?.slot, align: 'right' },
      {
        header: 'LAG slots',
        get: (r) => r.slotLag,
        align: 'right',
        style: (t, r) => ((r.slotLag ?? 0) > 120 ? c.warn(t) : t),
      },
    );
  }
  cols.push({
    header: 'NOTE',
    get: (r) =>
      [unprobed(r), r.shared ? 'shared' : '', r.attempts > 1 ? 'retried' : ''].filter(Boolean).join(',') || '',
    style: (t) => (t.trim() === '' ? t : c.dim(t)),
  });
  const lines = [renderTable(report.addresses, cols, (h) => c.bold(h))];
  const notAll = report.pools.filter((p) => p.status !== 'reachable');
  if (notAll.length > 0 && report.pools.length > 1) {
    lines.push('', c.bold('Pools not fully reachable:'));
    for (const p of notAll) {
      const paint = p.status === 'unreachable' ? c.fail : c.warn;
      lines.push(
        `  ${paint(p.status.toUpperCase())}  ${printable(p.id)}${p.ticker ? ` (${printable(p.ticker)})` : ''}: ${p.summary}`,
      );
    }
  }
  lines.push('', summaryText(report, c));
  return lines.join('\n');
}

/** The summary lines (counts, per-status, RTT quantiles and histogram). */
export function summaryText(report: ProbeReport, c: Palette): string {
  const s = report.summary;
  const onlyArgs = report.pools.every((p) => p.id === ARGS_POOL);
  const lines = [
    `${c.bold('probed')} ${counted(s.addresses, 'address', 'addresses')} of ${counted(s.relays, 'relay')}${onlyArgs ? '' : ` in ${counted(s.pools, 'pool')}`} in ${(s.elapsedMs / 1000).toFixed(1)}s: ` +
      `${c.ok(`${s.ok} ok`)}, ${s.failed > 0 ? c.fail(`${s.failed} failed`) : '0 failed'}` +
      (s.retried > 0 ? `, ${s.retried} retried` : ''),
    `relays: ${s.reachableRelays} of ${s.relays} reachable` +
      (onlyArgs
        ? ''
        : `; pools: ${s.reachablePools} reachable, ${s.partialPools} partly, ${s.unreachablePools} unreachable`),
  ];
  const failures = Object.entries(s.byStatus).filter(([k]) => k !== 'ok');
  if (failures.length > 0) lines.push(`failures: ${failures.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  // Without this line a registry of loopback test relays reads as "everything failed".
  const skipped = s.byStatus.UNUSABLE_ADDRESS ?? 0;
  if (skipped > 0) {
    lines.push(
      `${counted(skipped, 'registered address', 'registered addresses')} not probed (UNUSABLE_ADDRESS: loopback, private..., registered so or resolved from a name): --include-unusable probes them`,
    );
  }
  if (s.rtt.medianMs !== undefined) {
    lines.push(
      `rtt ms: median ${one(s.rtt.medianMs)}, p90 ${one(s.rtt.p90Ms)}, min ${one(s.rtt.minMs)}, max ${one(s.rtt.maxMs)}`,
    );
    const total = s.rtt.histogram.reduce((n, b) => n + b.count, 0);
    let lower = 0;
    for (const b of s.rtt.histogram) {
      const label = b.ltMs === null ? `>= ${lower}` : `${lower}-${b.ltMs}`;
      const bar = '#'.repeat(total === 0 ? 0 : Math.round((b.count / total) * 40));
      lines.push(`  ${label.padStart(9)} ms ${String(b.count).padStart(6)} ${c.dim(bar)}`);
      lower = b.ltMs ?? lower;
    }
  }
  if (report.reference) {
    lines.push(
      `reference tip: slot ${report.reference.slot} (${report.reference.source}, from ${counted(report.reference.from, 'tip')})`,
    );
  } else {
    // --tip answered but no lag could be measured: say why rather than leave LAG empty.
    const tips = new Set(report.addresses.filter((r) => r.tip).map((r) => `${r.address}|${r.port}`)).size;
    if (tips > 0) {
      lines.push(
        `reference tip: none (the ${counted(tips, 'tip')} disagree: no majority within ${DEFAULT_WINDOW_SLOTS} slots; --reference koios compares with Koios)`,
      );
    }
  }
  return lines.join('\n');
}

export const CSV_COLUMNS = [
  'pool',
  'ticker',
  'relay',
  'relayKind',
  'address',
  'port',
  'family',
  'status',
  'stage',
  'connectMs',
  'handshakeMs',
  'rttMs',
  'rttMinMs',
  'rttMaxMs',
  'samples',
  'version',
  'slot',
  'blockNo',
  'slotLag',
  'attempts',
  'shared',
  'message',
] as const;

/** RFC 4180 CSV, one row per address (worst first), header row first. */
export function renderProbeCsv(report: ProbeReport): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const r of report.addresses) {
    const flat: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      pool: r.pool,
      ticker: r.ticker,
      relay: r.relay,
      relayKind: r.relayKind,
      address: r.address,
      port: r.port,
      family: r.family,
      status: r.status,
      stage: r.stage,
      connectMs: r.connectMs,
      handshakeMs: r.handshakeMs,
      rttMs: r.rttMs,
      rttMinMs: r.rttMinMs,
      rttMaxMs: r.rttMaxMs,
      samples: r.samples,
      version: r.version,
      slot: r.tip?.slot,
      blockNo: r.tip?.blockNo,
      slotLag: r.slotLag,
      attempts: r.attempts,
      shared: r.shared ? 'true' : '',
      message: r.message,
    };
    rows.push(CSV_COLUMNS.map((k) => csvField(flat[k])).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
