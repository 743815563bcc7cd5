import { describe, expect, it } from 'vitest';
import { monotonicClock, systemClock } from '../../src/lib/clock.js';

/** Arms `n` timers with fractional delays on `clock` and records how early (ms, clock time) each ran. */
function earliness(clock: ReturnType<typeof monotonicClock>, n: number): Promise<number[]> {
  return new Promise((resolve) => {
    const early: number[] = [];
    let done = 0;
    for (let i = 0; i < n; i++) {
      const delay = (i % 17) + 0.37 * (i % 3);
      const due = clock.now() + delay;
      clock.setTimer(delay, () => {
        early.push(due - clock.now());
        if (++done === n) resolve(early);
      });
    }
  });
}

describe('monotonicClock', () => {
  // Node's setTimeout fires up to ~2 ms early as performance.now() sees it; a governor wake-up that
  // ran early found nothing due and was never armed again (a peer's retry could be lost).
  it('never runs a timer before its time', async () => {
    const early = await earliness(systemClock, 300);
    expect(early).toHaveLength(300);
    expect(Math.max(...early)).toBeLessThanOrEqual(0);
  });

  it('never runs a timer early on a clock running 10x faster', async () => {
    const early = await earliness(monotonicClock(10), 300);
    expect(Math.max(...early)).toBeLessThanOrEqual(0);
  });

  it('a cancelled timer does not run, even while it waits out an early firing', async () => {
    const clock = monotonicClock();
    let ran = 0;
    const timers = Array.from({ length: 50 }, (_, i) => clock.setTimer(i % 5, () => ran++));
    for (const t of timers) t.cancel();
    await new Promise<void>((resolve) => clock.setTimer(10, resolve));
    expect(ran).toBe(0);
  });
});
