/**
 * spo top's dashboard as text: the numbers of a fixture page where an operator looks for them,
 * derived temperatures where a page lacks them, lines cut to the terminal's width, and a frame
 * that overwrites in place (home, erase to end of line, erase below) instead of clearing first.
 */
import { Chalk } from 'chalk';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { snapshotFromPage } from '../../src/metrics/top-snapshot.js';
import { palette } from '../../src/ui/color.js';
import { cut, type DashboardState, frame, renderDashboard } from '../../src/ui/top.js';
import { fixture } from '../metrics/page-server.js';

const plain = palette(new Chalk({ level: 0 }));

function state(text: string): DashboardState {
  const { snapshot, read } = snapshotFromPage({
    seq: 3,
    time: '2026-12-05T10:00:07.000Z',
    url: 'http://127.0.0.1:12798/metrics',
    text,
    bytes: text.length,
    scrapeMs: 2.25,
  });
  return { url: snapshot.url, intervalMs: 2000, snapshot, values: read.values, seq: 3 };
}

const row = (lines: string[], label: string) =>
  (lines.find((l) => l.trimStart().startsWith(label)) ?? '').trim().split(/\s{2,}/);

describe('renderDashboard', () => {
  it('shows the counters of a legacy page', () => {
    const lines = renderDashboard(state(fixture('legacy-10.5.3.prom')), plain, 120);
    expect(lines[0]).toContain('legacy tracing names');
    expect(lines[1]).toContain('refresh #3 at 10:00:07Z, every 2s');
    expect(lines[2]).toBe('tip   block 11,234,567   slot 151,234,567   epoch 560');
    expect(row(lines, 'all').slice(1)).toEqual(['150', '50', '20', '100', '30', '20']);
    expect(row(lines, 'big ledger').slice(1)).toEqual(['40', '15', '5', '25', '10', '5']);
    // local roots: no temperatures published, derived from known/established/active
    expect(row(lines, 'local roots').slice(1)).toEqual(['3', '3', '2', '0', '1', '2']);
    const conn = lines[lines.findIndex((l) => l.startsWith('connections')) + 1] ?? '';
    expect(conn.trim().split(/\s+/)).toEqual(['12', '48', '10', '50', '5', '-']);
    const ig = lines[lines.findIndex((l) => l.startsWith('inbound governor')) + 1] ?? '';
    expect(ig.trim().split(/\s+/)).toEqual(['2', '1', '6', '3']);
    expect(lines.some((l) => l.includes('scrape 2.3 ms'))).toBe(true);
  });

  it('shows the same numbers for a new-system page', () => {
    const a = renderDashboard(state(fixture('legacy-10.5.3.prom')), plain, 120).slice(2, 16);
    const b = renderDashboard(state(fixture('new-10.5.3.prom')), plain, 120).slice(2, 16);
    expect(b).toEqual(a);
  });

  it('says when a page has no P2P names, and shows a failed refresh with its hint', () => {
    const s = state('cardano_node_metrics_blockNum_int 5\n');
    s.error = {
      code: 'METRICS_UNREACHABLE',
      message: 'cannot read x: connection refused',
      hint: 'is it on?',
      time: '2026-12-05T10:00:09.000Z',
    };
    const lines = renderDashboard(s, plain, 200);
    expect(lines.some((l) => l.includes('no P2P metrics on this page'))).toBe(true);
    expect(lines).toContain('refresh failed at 10:00:09Z: cannot read x: connection refused');
    expect(lines).toContain('hint: is it on?');
    expect(row(lines, 'all').slice(1)).toEqual(['-', '-', '-', '-', '-', '-']);
  });

  it('cuts lines to the width, keeping colour codes whole', () => {
    const lines = renderDashboard(state(fixture('new-10.5.3.prom')), palette(new Chalk({ level: 1 })), 40);
    for (const l of lines) expect(stringWidth(l)).toBeLessThanOrEqual(40);
    expect(cut('\x1b[1mabcdef\x1b[22m', 4)).toBe('\x1b[1mabc…\x1b[0m');
    expect(cut('abc', 4)).toBe('abc');
  });

  it('a frame overwrites in place: home, erase to end of line per line, erase below; no clear screen', () => {
    const f = frame(['a', 'b']);
    expect(f).toBe('\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J');
    expect(f).not.toContain('\x1b[2J');
  });
});
