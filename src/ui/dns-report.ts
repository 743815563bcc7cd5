/** The table of `spo resolve` and `spo relays resolve` for people (the JSON is the NameResults themselves). */
import type { NameResult, ResolveSummary } from '../dns/name-results.js';
import { summarize } from '../dns/name-results.js';
import { printable } from '../lib/sanitize.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

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
