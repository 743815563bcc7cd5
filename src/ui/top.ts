/**
 * `spo top`'s dashboard: the node's P2P counters as a few aligned blocks, redrawn in place on a
 * TTY. Rendering is pure (values in, lines out); the frame helpers only build escape sequences, the
 * command writes them. A frame is written in one write: cursor home, each line followed by "erase
 * to end of line", then "erase below", so nothing is cleared before it is overwritten (no flicker).
 */
import stringWidth from 'string-width';
import type { TopSnapshot } from '../metrics/top-snapshot.js';
import type { Palette } from './color.js';

export interface DashboardState {
  url: string;
  intervalMs: number;
  /** The last good refresh (undefined before the first). */
  snapshot: TopSnapshot | undefined;
  values: ReadonlyMap<string, number | null> | undefined;
  /** The last refresh failed with this (the values shown are the previous ones). */
  error?: { code: string; message: string; hint?: string | undefined; time: string } | undefined;
  seq: number;
}

const GENERATION_TEXT: Record<string, string> = {
  legacy: 'legacy tracing names',
  new: 'new tracing names (_int)',
  'new-nosuffix': 'new tracing names, no suffix',
  mixed: 'names of both tracing generations',
  unknown: 'no P2P names found',
};

function num(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (!Number.isInteger(v)) return v.toFixed(3);
  return v.toLocaleString('en-US');
}

/** The dashboard's lines, each at most `columns` wide (longer ones are cut). */
export function renderDashboard(state: DashboardState, p: Palette, columns = 100): string[] {
  const v = (key: string): number | null => state.values?.get(key) ?? null;
  const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);
  const lines: string[] = [];
  const gen = state.snapshot ? (GENERATION_TEXT[state.snapshot.generation] ?? state.snapshot.generation) : 'waiting';
  const time = state.snapshot?.time.slice(11, 19) ?? '--:--:--';
  lines.push(`${p.bold('spo top')}  ${state.url}  ${p.dim('·')}  ${gen}`);
  lines.push(p.dim(`refresh #${state.seq} at ${time}Z, every ${seconds(state.intervalMs)}`));
  lines.push(
    `${p.dim('tip')}   block ${num(v('tip.blockNo'))}   slot ${num(v('tip.slot'))}   epoch ${num(v('tip.epoch'))}`,
  );
  lines.push('');

  // peer groups: known / established / active and cold / warm / hot, derived where not published
  const groups: Array<[string, string, boolean]> = [
    ['all', 'peerSelection', true],
    ['big ledger', 'peerSelection.bigLedger', true],
    ['local roots', 'peerSelection.localRoots', false],
    ['non-root', 'peerSelection.nonRoot', false],
    ['bootstrap', 'peerSelection.bootstrap', false],
  ];
  const rows = groups.map(([label, g, hasTemps]) => {
    const known = v(`${g}.known`);
    const established = v(`${g}.established`);
    const active = v(`${g}.active`);
    const cold = (hasTemps ? v(`${g}.cold`) : null) ?? diff(known, established);
    const warm = (hasTemps ? v(`${g}.warm`) : null) ?? diff(established, active);
    const hot = (hasTemps ? v(`${g}.hot`) : null) ?? active;
    return [label, num(known), num(established), num(active), num(cold), num(warm), num(hot)];
  });
  lines.push(...table(['peers', 'known', 'established', 'active', 'cold', 'warm', 'hot'], rows, p));
  lines.push(
    `  ${p.dim('root peers')} ${num(v('peerSelection.root'))}   ${p.dim('in progress:')} cold→warm ${num(v('peerSelection.promotingCold'))}  warm→hot ${num(v('peerSelection.promotingWarm'))}  warm→cold ${num(v('peerSelection.demotingWarm'))}  hot→warm ${num(v('peerSelection.demotingHot'))}`,
  );
  lines.push('');
  lines.push(
    ...table(
      ['connections', 'inbound', 'outbound', 'duplex', 'unidirectional', 'full duplex', 'prunable'],
      [
        [
          '',
          num(v('connectionManager.inbound')),
          num(v('connectionManager.outbound')),
          num(v('connectionManager.duplex')),
          num(v('connectionManager.unidirectional')),
          num(v('connectionManager.fullDuplex')),
          num(v('connectionManager.prunable')),
        ],
      ],
      p,
    ),
  );
  lines.push(
    ...table(
      ['inbound governor', 'idle', 'cold', 'warm', 'hot'],
      [
        [
          '',
          num(v('inboundGovernor.idle')),
          num(v('inboundGovernor.cold')),
          num(v('inboundGovernor.warm')),
          num(v('inboundGovernor.hot')),
        ],
      ],
      p,
    ),
  );
  lines.push('');
  const s = state.snapshot;
  if (s) {
    const invalid = s.invalidLines > 0 ? p.warn(`, ${s.invalidLines} invalid lines skipped`) : '';
    lines.push(
      p.dim(
        `scrape ${s.scrapeMs.toFixed(1)} ms, ${s.bytes.toLocaleString('en-US')} bytes, ${s.samples} samples (${s.nodeSamples} cardano_node_metrics_*)`,
      ) + invalid,
    );
    if (s.generation === 'unknown') {
      lines.push(
        p.warn(
          'no P2P metrics on this page: are the P2P tracers on (TracePeerSelectionCounters, TraceConnectionManagerCounters, TraceInboundGovernorCounters in legacy configs)?',
        ),
      );
    }
  }
  if (state.error) {
    lines.push(`${p.fail('refresh failed')} at ${state.error.time.slice(11, 19)}Z: ${state.error.message}`);
    if (state.error.hint) lines.push(p.dim(`hint: ${state.error.hint}`));
    if (s) lines.push(p.dim('the values above are from the last refresh that worked; retrying'));
  }
  lines.push(p.dim('Ctrl-C to quit'));
  return lines.map((l) => cut(l, columns));
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A header and rows, the first column left-aligned, the others right-aligned. */
function table(header: string[], plainRows: string[][], p: Palette): string[] {
  const rows = plainRows.map((r) => [`  ${r[0] ?? ''}`, ...r.slice(1)]);
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => {
        const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - stringWidth(c)));
        return i === 0 ? c + gap : gap + c;
      })
      .join('  ')
      .trimEnd();
  return [p.bold(fmt(header)), ...rows.map(fmt)];
}

/** Cuts a line with escape codes to `columns` visible characters (escape codes kept, reset added). */
export function cut(line: string, columns: number): string {
  if (stringWidth(line) <= columns) return line;
  let out = '';
  let width = 0;
  for (let i = 0; i < line.length; ) {
    if (line.charCodeAt(i) === 0x1b && line[i + 1] === '[') {
      // an SGR sequence (colour): copied, takes no column
      const end = line.indexOf('m', i);
      const stop = end < 0 ? line.length : end + 1;
      out += line.slice(i, stop);
      i = stop;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i) as number);
    const w = stringWidth(ch);
    if (width + w > columns - 1) break;
    out += ch;
    width += w;
    i += ch.length;
  }
  // a reset only where colour may be left open (a plain line stays plain)
  return line.includes('\x1b[') ? `${out}…\x1b[0m` : `${out}…`;
}

/** Enter the alternate screen and hide the cursor. */
export const SCREEN_ENTER = '\x1b[?1049h\x1b[?25l';
/** Show the cursor and leave the alternate screen. */
export const SCREEN_LEAVE = '\x1b[?25h\x1b[?1049l';

/** One frame: home, each line then erase-to-end-of-line, then erase below. */
export function frame(lines: readonly string[]): string {
  return `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`;
}
