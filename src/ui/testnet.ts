/**
 * The terminal view of `spo testnet` (docs/testnet.md): the live frame (every node's hot/warm/cold
 * counts, the blocks' time to reach every node per churn cycle, a log of churn and blocks), the
 * plain log lines when standard output is not a terminal, and the final summary.
 */
import type { TestnetPlan } from '../testnet/plan.js';
import type { BlockRecord, TestnetSummary, TestnetTracker, TrackerNotice } from '../testnet/tracker.js';
import { figures } from '../testnet/tracker.js';
import type { Palette } from './color.js';
import { sparkline } from './simulation-report.js';
import { renderTable } from './table.js';

export interface TestnetHeader {
  plan: TestnetPlan;
  ports: readonly number[];
  durationMs: number;
  churnIntervalMs: number;
}

const fmtMs = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(1));
const clockTime = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** The title line: size, latency, seed, elapsed time. */
export function titleLine(h: TestnetHeader, elapsedMs: number, cycle: number, p: Palette): string {
  const o = h.plan.options;
  return `${p.bold('spo testnet')} · ${o.nodes} nodes (${o.producers} producing) · latency ${o.latency} · seed ${o.seed} · ${clockTime(elapsedMs)} / ${clockTime(h.durationMs)} · churn cycle ${cycle}`;
}

/** One row per node: address, role, region, hot/warm/cold, tip, churn cycles, headers. */
export function nodeTable(h: TestnetHeader, tracker: TestnetTracker, p: Palette): string {
  const rows = h.plan.nodes.map((n) => ({ n, v: tracker.nodes[n.index] }));
  const t = h.plan.targets;
  return renderTable(
    rows,
    [
      { header: 'NODE', get: (r) => r.n.name },
      { header: 'ADDRESS', get: (r) => `${r.n.host}:${h.ports[r.n.index] ?? '?'}` },
      { header: 'ROLE', get: (r) => (r.n.producer ? 'producer' : 'relay') },
      ...(h.plan.options.latency === 'geo'
        ? [{ header: 'REGION', get: (r: (typeof rows)[0]) => r.n.region ?? '-' }]
        : []),
      {
        header: `HOT/${t.active}`,
        get: (r) => r.v?.hot ?? 0,
        align: 'right',
        style: (s, r) => ((r.v?.hot ?? 0) >= t.active ? p.ok(s) : p.warn(s)),
      },
      { header: 'WARM', get: (r) => r.v?.warm ?? 0, align: 'right' },
      { header: 'COLD', get: (r) => r.v?.cold ?? 0, align: 'right' },
      { header: 'TIP', get: (r) => r.v?.tipBlockNo, align: 'right' },
      { header: 'CHURNS', get: (r) => r.v?.churnCycles ?? 0, align: 'right' },
      {
        header: 'STATE',
        get: (r) => (r.v?.stopped ? 'stopped' : r.v?.started ? 'running' : 'starting'),
      },
    ],
    p.bold,
  );
}

/** Per churn cycle so far: blocks, p50/p95 of the time to reach every node, and a sparkline of p95. */
export function cycleLine(tracker: TestnetTracker, p: Palette): string {
  const blocks = tracker.minted();
  if (blocks.length === 0) return p.dim('no block yet');
  const byCycle = new Map<number, BlockRecord[]>();
  for (const b of blocks) byCycle.set(b.cycle, [...(byCycle.get(b.cycle) ?? []), b]);
  const per = [...byCycle.entries()].sort(([a], [b]) => a - b).map(([c, list]) => ({ c, f: figures(list) }));
  const p95s = per.map((x) => x.f.p95Ms);
  const finite = p95s.filter((x): x is number => x !== null);
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 0;
  const cur = per[per.length - 1];
  return `blocks ${blocks.length} · this cycle p50 ${fmtMs(cur?.f.p50Ms)} ms p95 ${fmtMs(cur?.f.p95Ms)} ms · p95 per cycle ${sparkline(p95s, lo, hi)}`;
}

/** Off a terminal, now and then: every node's hot/warm/cold and the blocks so far. */
export function statusLine(h: TestnetHeader, tracker: TestnetTracker, p: Palette): string {
  const nodes = tracker.nodes
    .map((v) => `${h.plan.nodes[v.index]?.name ?? v.index} ${v.hot}/${v.warm}/${v.cold}`)
    .join(' ');
  return `${p.dim(new Date().toISOString().slice(11, 19))} hot/warm/cold: ${nodes} · ${cycleLine(tracker, p)}`;
}

/** A notice as one log line (the live frame's log and the plain output). */
export function noticeLine(
  n: TrackerNotice,
  plan: TestnetPlan,
  p: Palette,
  time: string = new Date().toISOString().slice(11, 19),
): string {
  const name = (i: number | undefined): string => (i === undefined ? '?' : (plan.nodes[i]?.name ?? `#${i}`));
  switch (n.kind) {
    case 'block':
      return `${p.dim(time)} block #${n.block.blockNo} from ${name(n.block.producer)} reached all ${plan.nodes.length} nodes in ${p.accent(`${fmtMs(n.block.allReachedMs)} ms`)} (cycle ${n.block.cycle})`;
    case 'churn':
      return `${p.dim(time)} ${name(n.node)} churn ${n.action} ${n.count}`;
    case 'targets':
      return `${p.dim(time)} ${name(n.node)} ${p.ok('reached its targets')}`;
    case 'warning':
      return `${p.dim(time)} ${name(n.node)} ${p.warn('warning')} ${n.code}: ${n.message}`;
  }
}

/** The live frame's lines. */
export function renderFrame(
  h: TestnetHeader,
  tracker: TestnetTracker,
  log: readonly string[],
  elapsedMs: number,
  status: string,
  p: Palette,
): string[] {
  return [
    titleLine(h, elapsedMs, tracker.cycle, p),
    '',
    ...nodeTable(h, tracker, p).split('\n'),
    '',
    cycleLine(tracker, p),
    '',
    ...log,
    '',
    p.dim(status),
  ];
}

/** The summary at the end: per-cycle table, totals, how the nodes stopped. */
export function renderSummary(
  h: TestnetHeader,
  s: TestnetSummary,
  stop: { stopMs: number; killed: number; interrupted: boolean },
  p: Palette,
): string {
  const rows = [
    ...s.perCycle.map((c) => ({ label: String(c.cycle), ...c })),
    { label: 'all', cycle: -1, blocks: s.blocks, complete: s.complete, p50Ms: s.p50Ms, p95Ms: s.p95Ms, maxMs: s.maxMs },
  ];
  const table = renderTable(
    rows,
    [
      { header: 'CHURN CYCLE', get: (r) => r.label },
      { header: 'BLOCKS', get: (r) => r.blocks, align: 'right' },
      {
        header: 'REACHED ALL',
        get: (r) => `${r.complete}/${r.blocks}`,
        align: 'right',
        style: (x, r) => (r.complete === r.blocks ? p.ok(x) : p.warn(x)),
      },
      { header: 'P50 ms', get: (r) => fmtMs(r.p50Ms), align: 'right' },
      { header: 'P95 ms', get: (r) => fmtMs(r.p95Ms), align: 'right' },
      { header: 'MAX ms', get: (r) => fmtMs(r.maxMs), align: 'right' },
    ],
    p.bold,
  );
  const o = h.plan.options;
  return [
    `${p.bold('testnet summary')}: ${o.nodes} nodes, ${o.producers} producing, latency ${o.latency}, seed ${o.seed}${stop.interrupted ? p.warn(' (interrupted)') : ''}`,
    'time for each block to reach every node, by the churn cycle it was minted in:',
    table,
    targetsLine(s, p),
    `churn cycles ${s.churnCycles} · promotions ${s.promotions} · demotions ${s.demotions} · failures ${s.failures} · warnings ${s.warnings}`,
    `stopped ${o.nodes} nodes in ${stop.stopMs} ms${stop.killed > 0 ? p.fail(` (${stop.killed} killed after the grace time)`) : ''}`,
  ].join('\n');
}

/** Whether every node reached its targets (all three at once) and none went above one. */
export function targetsLine(s: TestnetSummary, p: Palette): string {
  const t = s.targets;
  const all = s.nodesAtTargets === s.nodes;
  const reached = s.targetsReachedMs.filter((x): x is number => x !== null);
  const slowest =
    reached.length === 0 ? '' : `, the last ${(Math.max(...reached) / 1000).toFixed(1)} s after its start`;
  const tiers = all
    ? ''
    : ` (known ${s.nodesAtKnownTarget}/${s.nodes}, established ${s.nodesAtEstablishedTarget}/${s.nodes}, active ${s.nodesAtActiveTarget}/${s.nodes})`;
  const count = `${s.nodesAtTargets}/${s.nodes}`;
  return `nodes at their targets (known ${t.known}, established ${t.established}, active ${t.active}, all at once) ${all ? p.ok(count) : p.warn(count)}${tiers}${slowest} · over a target ${s.nodesOverTargets === 0 ? p.ok('0') : p.warn(String(s.nodesOverTargets))}`;
}
