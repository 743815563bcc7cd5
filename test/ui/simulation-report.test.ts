/**
 * The terminal view of `spo simulate`: sparklines on one shared scale (so policies compare), rounds
 * that never reached 95 % shown as ×, and the progress line naming every policy.
 */
import { describe, expect, it } from 'vitest';
import type { RoundFigures } from '../../src/simulation/run.js';
import { progressLine, sparkline } from '../../src/ui/simulation-report.js';

const round = (r: number, p95Ms: number | null): RoundFigures => ({
  round: r,
  blocks: 180,
  p50Ms: p95Ms,
  p95Ms,
  p99Ms: p95Ms,
  meanMs: p95Ms,
  withinDeadline: 1,
  unreachedBlocks: p95Ms === null ? 10 : 0,
  hotChanges: 0,
  curve: [],
});

describe('simulation report', () => {
  it('draws sparklines on the given scale, lowest ▁ and highest █, a missing value as ×', () => {
    expect(sparkline([100, 200, 300, null], 100, 300)).toBe('▁▅█×');
    expect(sparkline([5, 5], 5, 5)).toBe('▁▁');
  });

  it('shows every policy on one scale in the progress line', () => {
    const line = progressLine(
      1,
      30,
      new Map([
        ['node', [round(0, 300), round(1, 200)]],
        ['no-churn', [round(0, 300), round(1, 300)]],
      ]),
    );
    expect(line).toBe('round 2/30 · p95 per round: node █▁ 200.0 ms · no-churn ██ 300.0 ms');
  });
});
