/** The table of `spo resolve` and `spo relays resolve` for people (the JSON is the NameResults themselves). */

import stringWidth from 'string-width';
import type { NameResult, ResolveSummary } from '../dns/name-results.js';
import { summarize } from '../dns/name-results.js';
import { printable } from '../lib/sanitize.js';
import type { Palette } from './color.js';
import { type Column, fitWidth, renderTable } from './table.js';

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

/** What `spo relays resolve` shows of one registry name (its NameResult plus who registered it). */
export interface RelayNameView extends Omit<NameResult, 'addresses'> {
  kind: 'dns' | 'srv';
  pools: string[];
  ports: number[];
  addresses: Array<NameResult['addresses'][number] & { unusable?: string }>;
}

/** An error message without the name it starts with (the row shows the name already). */
function withoutName(message: string, names: readonly string[]): string {
  const colon = message.indexOf(': ');
  return colon > 0 && names.some((n) => message.startsWith(n)) ? message.slice(colon + 2) : message;
}

/** The widest line `spo relays resolve` prints (an 80-120 column terminal shows it unwrapped). */
export const RELAYS_TABLE_WIDTH = 119;

const poolCell = (pools: readonly string[]): string => {
  const first = pools[0] ?? '';
  const id = printable(first.length > 14 ? `${first.slice(0, 8)}…${first.slice(-5)}` : first);
  return pools.length > 1 ? `${id} +${pools.length - 1}` : id;
};

/**
 * The table of `spo relays resolve`: one row per address with the pool that registered the name
 * and the port, then the summary. An address not usable as a public peer (loopback, private...)
 * says so in NOTE; names and notes are cut (middle ellipsis) so a line stays within 119 columns.
 */
export function renderRelayResults(results: readonly RelayNameView[], c: Palette): string {
  interface RelayRow {
    name: string;
    pool: string;
    port: string;
    type: string;
    address: string;
    ttl: string;
    ms: string;
    note: string;
    failed: boolean;
    unusable: boolean;
  }
  const rows: RelayRow[] = [];
  for (const r of results) {
    const name = printable(r.name);
    const ports = r.ports.length === 0 ? '' : r.ports.length === 1 ? String(r.ports[0]) : `${r.ports[0]}+`;
    if (r.status !== 'resolved') {
      rows.push({
        name,
        pool: poolCell(r.pools),
        port: ports,
        type: r.kind === 'srv' ? 'SRV' : '',
        address: printable(r.error?.code ?? r.status),
        ttl: '',
        ms: r.elapsedMs.toFixed(1),
        // the row names the name already
        note: printable(withoutName(r.error?.message ?? '', [r.queryName, r.name])),
        failed: true,
        unusable: false,
      });
      continue;
    }
    r.addresses.forEach((a, i) => {
      const notes = [a.unusable ? `not public: ${a.unusable}` : '', a.target ? `via ${printable(a.target)}` : ''];
      rows.push({
        name: i === 0 ? name : '',
        pool: i === 0 ? poolCell(r.pools) : '',
        port: a.port === undefined ? (i === 0 ? ports : '') : String(a.port),
        type: r.kind === 'srv' ? `SRV ${a.recordType}` : a.recordType,
        address: a.address,
        ttl: a.ttlSec === a.rawTtlSec ? String(a.ttlSec) : `${a.ttlSec} (${a.rawTtlSec})`,
        ms: i === 0 ? r.elapsedMs.toFixed(1) : '',
        note: notes.filter(Boolean).join(', '),
        failed: false,
        unusable: a.unusable !== undefined,
      });
    });
  }
  const columns: Array<Column<RelayRow>> = [
    { header: 'NAME', get: (r) => r.name },
    { header: 'POOL', get: (r) => r.pool },
    { header: 'PORT', get: (r) => r.port, align: 'right' },
    { header: 'TYPE', get: (r) => r.type },
    { header: 'ADDRESS', get: (r) => r.address, style: (t, r) => (r.failed ? c.fail(t) : r.unusable ? c.warn(t) : t) },
    { header: 'TTL s', get: (r) => r.ttl, align: 'right' },
    { header: 'TIME ms', get: (r) => r.ms, align: 'right' },
    { header: 'NOTE', get: (r) => r.note, style: (t, r) => (r.unusable ? c.warn(t) : c.dim(t)) },
  ];
  // NAME and NOTE give way (never an address, port or number) when a line would pass the width.
  const w = (get: (r: RelayRow) => string, header: string): number =>
    Math.max(stringWidth(header), ...rows.map((r) => stringWidth(get(r))));
  const fixed =
    w((r) => r.pool, 'POOL') +
    w((r) => r.port, 'PORT') +
    w((r) => r.type, 'TYPE') +
    w((r) => r.address, 'ADDRESS') +
    w((r) => r.ttl, 'TTL s') +
    w((r) => r.ms, 'TIME ms') +
    2 * (columns.length - 1);
  let nameW = w((r) => r.name, 'NAME');
  let noteW = w((r) => r.note, 'NOTE');
  const room = Math.max(RELAYS_TABLE_WIDTH - fixed, 24);
  // NOTE first (its text is in the JSON whole), then NAME.
  while (nameW + noteW > room && (nameW > 16 || noteW > 12)) {
    if (noteW > 12) noteW--;
    else nameW--;
  }
  for (const r of rows) {
    r.name = fitWidth(r.name, nameW);
    r.note = fitWidth(r.note, noteW);
  }
  return `${renderTable(rows, columns, c.bold)}\n\n${relaySummaryLine(results, c)}`;
}

/** The summary line, and what the flagged addresses mean when there are any. */
export function relaySummaryLine(results: readonly RelayNameView[], c: Palette): string {
  const line = summaryLine(summarize(results), c);
  const flagged = results.filter((r) => r.addresses.some((a) => a.unusable !== undefined)).length;
  if (flagged === 0) return line;
  return `${line}\n${c.warn(`${flagged} ${flagged === 1 ? 'name resolves' : 'names resolve'} to addresses not usable as public peers (see NOTE): other nodes cannot reach them`)}`;
}
