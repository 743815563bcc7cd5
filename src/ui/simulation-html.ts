/**
 * The HTML report of `spo simulate --out REPORT.html`: diffusion curves and per-round p95 charts as
 * inline SVG, rendered in Node by Vega-Lite (compiled to a Vega spec) and Vega's headless SVG
 * renderer (`renderer: 'none'` + `toSVG()`: no canvas package, no browser). Vega is loaded on first
 * use: every other command and a run without --out never pay for it. The page has no scripts and
 * loads nothing: it opens offline in any browser.
 */
import { CURVE_STEP_MS, type PolicyResult, type SimulationResult } from '../simulation/run.js';

type Row = Record<string, string | number | null>;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const label = (p: PolicyResult): string => (p.policy === 'floor' ? 'floor (direct links)' : p.policy);

async function svg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function curveRows(result: SimulationResult, round: number, tag: string): Row[] {
  const rows: Row[] = [];
  for (const p of [...result.policies, result.floor]) {
    const r = p.rounds[round];
    if (!r) continue;
    r.curve.forEach((share, i) => {
      rows.push({ policy: label(p), round: tag, ms: i * CURVE_STEP_MS, share });
    });
  }
  return rows;
}

/** The charts' specs (exported for tests: they must compile and render). */
export function chartSpecs(result: SimulationResult): Record<string, Record<string, unknown>> {
  const last = result.rounds - 1;
  const curves = [
    ...curveRows(result, 0, 'round 1'),
    ...(last > 0 ? curveRows(result, last, `round ${last + 1}`) : []),
  ];
  const perRound: Row[] = [];
  for (const p of [...result.policies, result.floor])
    for (const r of p.rounds)
      perRound.push({ policy: label(p), round: r.round + 1, p95Ms: r.p95Ms, p50Ms: r.p50Ms, within: r.withinDeadline });
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 640, height: 300 };
  const color = { field: 'policy', type: 'nominal', title: 'policy', legend: { labelLimit: 240 } };
  return {
    curves: {
      ...base,
      title: 'Diffusion: mean share of nodes having a block header, by time after its slot',
      data: { values: curves },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'ms', type: 'quantitative', title: 'ms after the slot' },
        y: { field: 'share', type: 'quantitative', title: 'share of nodes', scale: { domain: [0, 1] } },
        color,
        strokeDash: { field: 'round', type: 'nominal', title: 'round' },
      },
    },
    p95: {
      ...base,
      title: 'Per round: p95 over blocks of the time until 95 % of nodes have the header',
      data: { values: perRound.filter((r) => r.p95Ms !== null) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'round', type: 'quantitative', title: 'round (one nominal churn interval, 1 h)' },
        y: { field: 'p95Ms', type: 'quantitative', title: 'p95 (ms)', scale: { zero: false } },
        color,
      },
    },
    p50: {
      ...base,
      title: 'Per round: median over blocks of the time until 95 % of nodes have the header',
      data: { values: perRound.filter((r) => r.p50Ms !== null) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'round', type: 'quantitative', title: 'round' },
        y: { field: 'p50Ms', type: 'quantitative', title: 'p50 (ms)', scale: { zero: false } },
        color,
      },
    },
  };
}

const fmt = (v: number | null): string => (v === null ? 'never' : `${v.toFixed(1)} ms`);

/** The whole page. */
export async function renderSimulationHtml(result: SimulationResult): Promise<string> {
  const specs = chartSpecs(result);
  const [curves, p95, p50] = await Promise.all([
    svg(specs.curves as Record<string, unknown>),
    svg(specs.p95 as Record<string, unknown>),
    svg(specs.p50 as Record<string, unknown>),
  ]);
  const rows = [...result.policies, result.floor]
    .map(
      (p) =>
        `<tr><td>${escapeHtml(label(p))}</td><td>${fmt(p.steady.p50Ms)}</td><td>${fmt(p.steady.p95Ms)}</td><td>${fmt(p.steady.p99Ms)}</td><td>${(p.steady.withinDeadline * 100).toFixed(1)} %</td><td>${p.settledAtRound === null ? 'no' : `round ${p.settledAtRound + 1}`}</td></tr>`,
    )
    .join('\n');
  const steadyFrom = (result.policies[0]?.steady.fromRound ?? result.floor.steady.fromRound) + 1;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spo simulate: ${result.nodes} nodes, seed ${result.seed}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}figure{margin:1.5rem 0}.note{color:#555;font-size:.9rem}</style></head>
<body>
<h1>Block header diffusion: ${result.nodes} nodes, ${result.rounds} rounds</h1>
<p>${result.blocks} blocks; ${result.hot} hot peers per node (established ${result.targets.established}, known ${result.targets.known}); seed ${result.seed}.
Placement: ${escapeHtml(result.regions.map((r) => `${r.name} ${r.nodes}`).join(', '))}.
Link delay: great-circle distance / (2/3 c) + ${result.processingMs} ms processing per hop.</p>
<h2>Steady state (rounds ${steadyFrom}-${result.rounds})</h2>
<p class="note">Per block: the time until 95 % of nodes have its header. Percentiles over the blocks of the steady-state rounds; "≤ 5 s": share of blocks that reached 95 % of nodes within the design's 5 s deadline; "settled": from that round on, every round's p95 is within 10 % of the steady state's.</p>
<table><thead><tr><th>policy</th><th>p50</th><th>p95</th><th>p99</th><th>≤ 5 s</th><th>settled</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<figure>${p95}</figure>
<figure>${p50}</figure>
<figure>${curves}</figure>
<p class="note">node: every node runs the governor core's churn (20 % of hot peers per cycle, demoted by the upstream metric, replaced at random; 3300 s + U(0, 600 s) between cycles). no-churn: the random overlay the governor reaches without churn. oracle: each round, every node keeps its first ${Math.max(1, Math.floor(result.hot / 5))} random hot peers and takes the rest from its known peers by true mean arrival + true link delay. floor: every node one direct link from the producer. What is and is not modelled: docs/simulation.md.</p>
</body></html>
`;
}
