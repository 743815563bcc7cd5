/**
 * The testnet's churn interval (ChurnInput.intervalMs, DriverOptions.churnIntervalMs): only the
 * time between cycles changes, with the reference's relative fuzz; without it the reference's
 * 3300 s + U(0, 600 s) stands, drawing the same random numbers as before.
 */
import { describe, expect, it } from 'vitest';
import { churnStep, initialChurnState } from '../../src/governor/churn.js';
import { createRng } from '../../src/governor/rng.js';
import type { Targets } from '../../src/governor/types.js';

const base: Targets = {
  root: 2,
  known: 7,
  established: 5,
  active: 3,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
};
const counters = { ...base, root: 2 };

/** The first wait after start-up (3 s of root 0, then the interval). */
function firstInterval(seed: number, intervalMs?: number): number {
  const r = createRng(seed);
  const input = { counters, base, ...(intervalMs === undefined ? {} : { intervalMs }) };
  const first = churnStep(initialChurnState(), { ...input, now: 0 }, r);
  const second = churnStep(first.state, { ...input, now: 3_000 }, r);
  expect(second.state.phase).toBe('interval');
  return second.wakeupAt - 3_000;
}

describe('churn interval for testnets', () => {
  it('a 20 s interval waits 20 s + U(0, 20 s × 600/3300) between cycles', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const w = firstInterval(seed, 20_000);
      expect(w).toBeGreaterThanOrEqual(20_000);
      expect(w).toBeLessThanOrEqual(20_000 + (20_000 * 600) / 3300);
    }
  });

  it('draws the same fuzz as the reference interval, scaled', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const ref = firstInterval(seed) - 3_300_000;
      const short = firstInterval(seed, 33_000) - 33_000;
      expect(short).toBeCloseTo(ref / 100, 6);
    }
  });

  it('without it, the reference: 3300 s + U(0, 600 s)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = firstInterval(seed);
      expect(w).toBeGreaterThanOrEqual(3_300_000);
      expect(w).toBeLessThanOrEqual(3_900_000);
    }
  });
});
