/**
 * Properties of `spo simulate` in simulated time (issue 14): deterministic by seed; with churn no
 * node ever exceeds its targets; every node's hot set changes by at most the churn fraction per
 * cycle; the policies share the world (round 1 starts from the same overlay and blocks).
 */
import { describe, expect, it } from 'vitest';
import { decrease } from '../../src/governor/churn.js';
import type { HotChange } from '../../src/simulation/churning-node.js';
import { runSimulation } from '../../src/simulation/run.js';
import { buildWorld, targetsFor } from '../../src/simulation/world.js';

describe('spo simulate properties', () => {
  it('is deterministic by seed: the same seed gives the same result, another seed another', () => {
    const opts = { nodes: 150, rounds: 3, policies: ['node', 'no-churn', 'oracle'] as const, hot: 8 };
    const a = runSimulation({ ...opts, seed: 3 });
    const b = runSimulation({ ...opts, seed: 3 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = runSimulation({ ...opts, seed: 4 });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('with churn, no node exceeds its targets and each cycle moves at most the churn fraction of hot peers', () => {
    const hot = 10;
    const targets = targetsFor(hot, 200);
    const changes: HotChange[] = [];
    const result = runSimulation({
      nodes: 200,
      rounds: 4,
      policies: ['node'],
      hot,
      seed: 9,
      onHotChange: (c) => changes.push(c),
    });
    // Every node churned about once per round after the first interval.
    expect(changes.length).toBeGreaterThan(200 * 2);
    const fraction = hot - decrease(hot); // 20 %, at least one
    const perNode = new Map<number, number>();
    for (const c of changes) {
      expect(c.maxOverTarget).toBeLessThanOrEqual(0);
      expect(c.after.length).toBeLessThanOrEqual(targets.active);
      expect(new Set(c.after).size).toBe(c.after.length);
      const removed = c.before.filter((p) => !c.after.includes(p));
      expect(removed.length).toBeLessThanOrEqual(fraction);
      expect(c.demoted.length).toBeLessThanOrEqual(fraction);
      perNode.set(c.node, (perNode.get(c.node) ?? 0) + 1);
    }
    // Fuzzed cycles of 3300-3900 s: within 4 h a node churns at most 4 times (start-up + 3 s + interval).
    for (const n of perNode.values()) expect(n).toBeLessThanOrEqual(4);
    expect(result.policies[0]?.rounds.reduce((s, r) => s + r.hotChanges, 0)).toBe(changes.length);
  });

  it('compares the policies on one world: round 1 starts from the same overlay and blocks', () => {
    const r = runSimulation({ nodes: 120, rounds: 2, policies: ['no-churn', 'oracle'], hot: 6, seed: 2 });
    const [noChurn, oracle] = r.policies;
    // The oracle rewires from round 2 on: its first round is the random overlay's.
    expect(oracle?.rounds[0]).toEqual(noChurn?.rounds[0]);
    expect(r.blocks).toBe(buildWorld({ nodes: 120, rounds: 2, hot: 6, seed: 2 }).blocks.slot.length);
    // The floor (one direct link from the producer) is a bound no overlay beats.
    for (const p of r.policies)
      for (let i = 0; i < p.rounds.length; i++)
        expect(p.rounds[i]?.p50Ms ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(r.floor.rounds[i]?.p50Ms ?? 0);
  });
});
