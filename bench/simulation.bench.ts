/**
 * `spo simulate` benchmark (issue 14): a 1,000-node, 10-round run, each policy alone and all three
 * together, in this process. Baseline, in the same run: the no-churn policy (the header diffusion
 * and statistics alone, one Dijkstra per block); the node policy's ratio to it is the cost of the
 * governor's churn and peer metrics per node. Reported: wall time and process CPU time (less
 * sensitive to the shared machine's load), and the node policy's CPU per node-block, from which
 * the 10,000-node, 30-round default is projected (target: under 10 minutes, stretch under 1).
 */
import { type PolicyName, runSimulation } from '../src/simulation/run.js';
import type { BenchResult } from './run.js';

const NODES = 1_000;
const ROUNDS = 10;

function measure(policies: PolicyName[]): { wallMs: number; cpuMs: number; blocks: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = runSimulation({ nodes: NODES, rounds: ROUNDS, policies, hot: 20, seed: 1 });
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000, blocks: r.blocks };
}

export default async function bench(): Promise<BenchResult[]> {
  measure(['no-churn']); // warm-up (JIT)
  const base = measure(['no-churn']);
  const node = measure(['node']);
  const oracle = measure(['oracle']);
  const all = measure(['node', 'no-churn', 'oracle']);
  const perNodeBlockUs = ((node.cpuMs - base.cpuMs) * 1000) / (NODES * node.blocks);
  const projectedMin = ((all.cpuMs / (NODES * all.blocks)) * 10_000 * (all.blocks * 3)) / 60_000;
  const results: BenchResult[] = [
    { name: `simulate ${NODES} nodes × ${ROUNDS} rounds, no-churn (baseline), wall`, value: base.wallMs, unit: 'ms' },
    { name: `simulate ${NODES} nodes × ${ROUNDS} rounds, no-churn (baseline), CPU`, value: base.cpuMs, unit: 'ms' },
    {
      name: `simulate ${NODES} nodes × ${ROUNDS} rounds, node policy, CPU`,
      value: node.cpuMs,
      unit: 'ms',
      baseline: { name: 'no-churn CPU', value: base.cpuMs },
      ratio: node.cpuMs / base.cpuMs,
    },
    {
      name: `simulate ${NODES} nodes × ${ROUNDS} rounds, oracle, CPU`,
      value: oracle.cpuMs,
      unit: 'ms',
      baseline: { name: 'no-churn CPU', value: base.cpuMs },
      ratio: oracle.cpuMs / base.cpuMs,
    },
    { name: `simulate ${NODES} nodes × ${ROUNDS} rounds, all policies, wall`, value: all.wallMs, unit: 'ms' },
    { name: `simulate ${NODES} nodes × ${ROUNDS} rounds, all policies, CPU`, value: all.cpuMs, unit: 'ms' },
    { name: 'node policy: governor churn + peer metrics CPU per node-block', value: perNodeBlockUs, unit: 'µs' },
    {
      // Linear in nodes × blocks (Dijkstra adds a log factor): 10× the nodes, 3× the blocks.
      name: 'projected CPU of the 10,000-node, 30-round default (all policies)',
      value: projectedMin,
      unit: 'min',
      target: '< 10 min (stretch < 1 min)',
      met: projectedMin < 10,
    },
  ];
  return results;
}
