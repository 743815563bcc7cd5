/**
 * The churn governor in the bulk-sync regimes and in Genesis mode, each rule from the reference's
 * `cardano-diffusion/lib/Cardano/Network/PeerSelection/Churn.hs` (IntersectMBO/ouroboros-network
 * d80f488): start-up targets, the established-peer decrease of `praosSync`, the active big ledger
 * peers of both sync regimes, and the churn interval of a Genesis node.
 */
import { describe, expect, it } from 'vitest';
import {
  BULK_CHURN_INTERVAL_MS,
  type ChurnInput,
  type ChurnRegime,
  type ChurnResult,
  churnStep,
  DEADLINE_CHURN_INTERVAL_MS,
  initialChurnState,
  stepTargets,
} from '../../src/governor/churn.js';
import { createRng } from '../../src/governor/rng.js';
import type { Counters, Targets } from '../../src/governor/types.js';

const base: Targets = {
  root: 60,
  known: 150,
  established: 30,
  active: 20,
  knownBigLedger: 15,
  establishedBigLedger: 10,
  activeBigLedger: 5,
};
const counters: Counters = {
  known: 150,
  established: 30,
  active: 20,
  knownBigLedger: 15,
  establishedBigLedger: 10,
  activeBigLedger: 5,
  root: 60,
};
const input = (regime: ChurnRegime, extra: Partial<ChurnInput> = {}): ChurnInput => ({
  now: 0,
  counters,
  base,
  regime,
  fetchMode: regime === 'default' ? 'deadline' : 'bulkSync',
  localRootHotTarget: 2,
  ...extra,
});

/** Start-up at 0, the full targets at 3 s. */
function startUp(i: ChurnInput): [ChurnResult, ChurnResult] {
  const rng = createRng(1);
  const first = churnStep(initialChurnState(), { ...i, now: 0 }, rng);
  return [first, churnStep(first.state, { ...i, now: 3000 }, rng)];
}

describe('churn in the bulk-sync regimes and in Genesis mode (Churn.hs)', () => {
  it('praosSync starts from the configured targets (root 0 for the first 3 s), not capped ones', () => {
    const [first, full] = startUp(input('praosSync'));
    expect(first.targets).toEqual({ ...base, root: 0 });
    expect(full.targets).toEqual(base);
  });

  it('bootstrapPraosSync starts with hot peers capped at max(1, ltt) + 1 and active big ledger peers at 1, and keeps them', () => {
    const [first, full] = startUp(input('bootstrapPraosSync'));
    expect(first.targets).toMatchObject({ active: 3, activeBigLedger: 1 });
    expect(full.targets ?? first.state.targets).toMatchObject({ active: 3, activeBigLedger: 1 });
  });

  it('praosSync decreases established peers from the configured active target: 2 warm peers, not 5', () => {
    // decreaseWithMin(d7, est − active) + active with the base targets: 30 − max(d7, ⌊10/5⌋) = 28
    const cur = { ...base, active: 3 };
    const t = stepTargets('DecreasedEstablishedPeers', cur, input('praosSync'), { 7: 1 });
    expect(t.established).toBe(28);
    // a larger churn of hot peers takes as many warm ones
    expect(stepTargets('DecreasedEstablishedPeers', cur, input('praosSync'), { 7: 4 }).established).toBe(26);
  });

  it('both sync regimes keep min(1, base) active big ledger peers when decreasing them (not decrease(1) = 0)', () => {
    for (const regime of ['praosSync', 'bootstrapPraosSync'] as const) {
      expect(stepTargets('DecreasedActiveBigLedgerPeers', base, input(regime), {}).activeBigLedger).toBe(1);
      expect(stepTargets('IncreasedActiveBigLedgerPeers', base, input(regime), {}).activeBigLedger).toBe(1);
      const none = { ...base, activeBigLedger: 0 };
      expect(
        stepTargets('DecreasedActiveBigLedgerPeers', base, input(regime, { base: none }), {}).activeBigLedger,
      ).toBe(0);
    }
    expect(stepTargets('DecreasedActiveBigLedgerPeers', base, input('default'), {}).activeBigLedger).toBe(4);
  });

  it('a Genesis node waits the long interval between cycles whatever its fetch mode', () => {
    for (const fetchMode of ['bulkSync', 'deadline'] as const) {
      const [, full] = startUp(input('default', { consensusMode: 'genesis', fetchMode }));
      expect(full.wakeupAt - 3000).toBeGreaterThanOrEqual(DEADLINE_CHURN_INTERVAL_MS);
    }
    const [, praos] = startUp(input('praosSync', { consensusMode: 'praos' }));
    expect(praos.wakeupAt - 3000).toBeGreaterThanOrEqual(BULK_CHURN_INTERVAL_MS);
    expect(praos.wakeupAt - 3000).toBeLessThan(DEADLINE_CHURN_INTERVAL_MS);
  });
});

describe('the churn trace', () => {
  it("gives each step's counter change signed (after minus before, the node's ChurnCounter) beside its size", () => {
    const rng = createRng(1);
    const i = input('default');
    let r = churnStep(initialChurnState(), { ...i, now: 0 }, rng);
    r = churnStep(r.state, { ...i, now: 3000 }, rng);
    const cycleAt = r.wakeupAt;
    expect(cycleAt).toBeDefined();
    // the first step of the cycle, DecreasedActiveBigLedgerPeers (5 -> 4), waits for the counter
    r = churnStep(r.state, { ...i, now: cycleAt as number }, rng);
    r = churnStep(r.state, { ...i, now: (cycleAt as number) + 10, counters: { ...counters, activeBigLedger: 4 } }, rng);
    expect(r.trace.find((t) => t.action === 'DecreasedActiveBigLedgerPeers')).toMatchObject({
      ok: true,
      delta: 1,
      change: -1,
    });
  });
});
