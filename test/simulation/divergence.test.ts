/**
 * The simulator's policy is the governor core itself: every hot-peer decision a simulated node
 * makes is replayed through the governor's `step()` (src/governor/governor.ts) on a GovernorState
 * holding the same known, established and hot peers in the same order, the same targets, the same
 * upstream-metric scores and the generator in the same state; the governor must move exactly the
 * same peers. A simplified copy of the policy in src/simulation (another sort, another candidate
 * order, another tie-break) fails this test.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../src/governor/governor.js';
import type { MetricScores } from '../../src/governor/peer-metrics.js';
import { DEFAULT_POLICY } from '../../src/governor/policies.js';
import { rngFromState } from '../../src/governor/rng.js';
import { insertEstablished, insertKnown, updateKnown } from '../../src/governor/state.js';
import { initialState, type Peer } from '../../src/governor/types.js';
import type { HotDecisionRecord } from '../../src/simulation/churning-node.js';
import { runSimulation } from '../../src/simulation/run.js';

function replay(rec: HotDecisionRecord): Peer[] {
  let s = initialState(rec.at);
  for (const p of rec.known) insertKnown(s, p, { origin: 'peer-share', advertise: false });
  for (const p of rec.established) insertEstablished(s, p, false, DEFAULT_POLICY);
  for (const p of rec.hot) s.active.add(p);
  for (const p of rec.tepid) updateKnown(s, p, { tepid: true });
  // First the targets the node had before this churn step (nothing to do), then the step's targets.
  const before = {
    ...rec.targets,
    root: 0,
    active: rec.hot.length,
    knownBigLedger: 0,
    establishedBigLedger: 0,
    activeBigLedger: 0,
  };
  const settle = step(s, [{ kind: 'targets', targets: before }], rec.at, rngFromState([1, 2, 3, 4]));
  expect(settle.jobs).toEqual([]);
  s = settle.state;
  const metrics: MetricScores = { score: rec.scores, joined: rec.joined };
  const r = step(
    s,
    [{ kind: 'targets', targets: { ...before, active: rec.targets.active } }],
    rec.at,
    rngFromState(rec.rngState),
    {
      metrics,
    },
  );
  const kind = rec.kind === 'demote' ? 'deactivate' : 'activate';
  return r.jobs.map((j) => {
    if (j.kind !== kind) throw new Error(`the governor took another decision: ${j.kind}`);
    return j.peer;
  });
}

describe('spo simulate: the node policy is src/governor', () => {
  it('every hot-peer decision of a simulated node is the one the governor step takes for the same inputs', () => {
    const records: HotDecisionRecord[] = [];
    runSimulation({
      nodes: 120,
      rounds: 3,
      policies: ['node'],
      hot: 8,
      seed: 11,
      onDecision: (r) => {
        if (records.length < 400) records.push(r);
      },
    });
    const demotions = records.filter((r) => r.kind === 'demote');
    const promotions = records.filter((r) => r.kind === 'promote');
    expect(demotions.length).toBeGreaterThan(50);
    expect(promotions.length).toBeGreaterThan(50);
    // Some demotions are decided by the metric's scores, not only by the random tie-break.
    expect(demotions.some((r) => new Set(r.hot.map((p) => r.scores.get(p) ?? 0)).size > 1)).toBe(true);
    for (const rec of records) expect(replay(rec)).toEqual(rec.picked);
  });
});
