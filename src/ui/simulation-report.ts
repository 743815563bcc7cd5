/**
 * The terminal view of `spo simulate`: a progress line with one sparkline per policy while it
 * runs, and the table of steady-state figures at the end (docs/simulation.md).
 */
import type { PolicyResult, RoundFigures, SimulationResult } from '../simulation/run.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline of `values` scaled between `lo` and `hi` (shared by all policies so their lines
 * compare); a missing value (a round whose blocks never reached 95 %) is a `×`.
 */
export function sparkline(values: ReadonlyArray<number | null>, lo: number, hi: number): string {
  const span = hi - lo;
  return values
    .map((v) => {
      if (v === null) return '×';
      const i = span <= 0 ? 0 : Math.round(((v - lo) / span) * (BARS.length - 1));
      return BARS[Math.max(0, Math.min(BARS.length - 1, i))] as string;
    })
    .join('');
}

function range(series: ReadonlyArray<ReadonlyArray<number | null>>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series)
    for (const v of s)
      if (v !== null) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
  return Number.isFinite(lo) ? [lo, hi] : [0, 0];
}

const ms = (v: number | null): string => (v === null ? 'never' : `${v.toFixed(1)} ms`);
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;

/** The progress line: round counter and, per policy, its p95 per round so far and the latest value. */
export function progressLine(
  round: number,
  rounds: number,
  byPolicy: ReadonlyMap<string, readonly RoundFigures[]>,
): string {
  const series = [...byPolicy.values()].map((rs) => rs.map((r) => r.p95Ms));
  const [lo, hi] = range(series);
  const parts = [...byPolicy].map(([name, rs]) => {
    const last = rs[rs.length - 1];
    return `${name} ${sparkline(
      rs.map((r) => r.p95Ms),
      lo,
      hi,
    )} ${last ? ms(last.p95Ms) : ''}`;
  });
  return `round ${round + 1}/${rounds} · p95 per round: ${parts.join(' · ')}`;
}

/** The final report: world, steady-state table with a sparkline of every round's p95, notes. */
export function renderSimulation(result: SimulationResult, c: Palette): string {
  const all: PolicyResult[] = [...result.policies, result.floor];
  const [lo, hi] = range(all.map((p) => p.rounds.map((r) => r.p95Ms)));
  const steadyFrom = result.policies[0]?.steady.fromRound ?? result.floor.steady.fromRound;
  const lines: string[] = [];
  lines.push(
    c.bold(
      `${result.nodes} nodes, ${result.rounds} rounds of ${result.roundMs / 60_000} min, ${result.blocks} blocks, ${result.hot} hot peers per node, seed ${result.seed}`,
    ),
  );
  lines.push(
    c.dim(
      `placement: ${result.regions.map((r) => `${r.name} ${r.nodes}`).join(', ')}; link delay = great-circle distance / (2/3 c) + ${result.processingMs} ms`,
    ),
  );
  lines.push('');
  lines.push(
    c.dim(
      `time until 95 % of nodes have a block's header: percentiles over blocks, steady state = rounds ${steadyFrom + 1}-${result.rounds}`,
    ),
  );
  lines.push(
    renderTable(
      all,
      [
        { header: 'policy', get: (p) => (p.policy === 'floor' ? 'floor (direct links)' : p.policy), align: 'left' },
        { header: 'p50', get: (p) => ms(p.steady.p50Ms), align: 'right' },
        { header: 'p95', get: (p) => ms(p.steady.p95Ms), align: 'right' },
        { header: 'p99', get: (p) => ms(p.steady.p99Ms), align: 'right' },
        {
          header: '≤ 5 s',
          get: (p) => pct(p.steady.withinDeadline),
          align: 'right',
          style: (t, p) => (p.steady.withinDeadline >= 0.95 ? c.ok(t) : c.warn(t)),
        },
        {
          header: 'settled',
          get: (p) => (p.settledAtRound === null ? 'no' : `round ${p.settledAtRound + 1}`),
          align: 'right',
        },
        {
          header: 'p95 per round',
          get: (p) =>
            sparkline(
              p.rounds.map((r) => r.p95Ms),
              lo,
              hi,
            ),
          align: 'left',
        },
      ],
      c.bold,
    ),
  );
  lines.push('');
  lines.push(
    c.dim(
      `sparklines share one scale (${lo.toFixed(0)}-${hi.toFixed(0)} ms); "settled": from that round on every round's p95 is within 10 % of the steady state's; floor: every node one direct link from the producer (a bound no overlay beats)`,
    ),
  );
  return lines.join('\n');
}
