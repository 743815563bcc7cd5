import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/clock.js';
import { Scheduler } from '../../src/sim/scheduler.js';

describe('Scheduler (virtual time)', () => {
  it('runs events in (time, scheduling order), whatever order they were added in', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
        const s = new Scheduler();
        const ran: Array<[number, number]> = [];
        for (const [i, t] of times.entries()) s.at(t, () => ran.push([s.now(), i]));
        s.run();
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(ran).toEqual(expected);
      }),
    );
  });

  it('cancelled timers never run, and events scheduled for the current instant run in it', () => {
    const s = new Scheduler(100);
    const ran: string[] = [];
    const t = s.setTimer(10, () => ran.push('cancelled'));
    s.setTimer(10, () => {
      ran.push('a');
      s.setTimer(0, () => ran.push(`b@${s.now()}`));
    });
    s.setTimer(20, () => ran.push('c'));
    t.cancel();
    expect(s.runInstant()).toBe(110);
    expect(ran).toEqual(['a', 'b@110']);
    s.run({ until: 500 });
    expect(ran).toEqual(['a', 'b@110', 'c']);
    expect(s.now()).toBe(500);
  });

  it('stops at maxEvents and at `until` with the clock there', () => {
    const s = new Scheduler();
    let n = 0;
    const tick = () => {
      n++;
      s.setTimer(1000, tick);
    };
    s.setTimer(0, tick);
    s.run({ maxEvents: 5 });
    expect(n).toBe(5);
    s.run({ until: 10_000 });
    expect(s.now()).toBe(10_000);
    expect(n).toBe(11);
  });

  it('runAsync lets promise chains finish before time moves on', async () => {
    const s = new Scheduler();
    const seen: number[] = [];
    const worker = async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(s, 250);
        await Promise.resolve();
        seen.push(s.now());
      }
    };
    const done = worker();
    await s.runAsync({ until: 10_000 });
    await done;
    expect(seen).toEqual([250, 500, 750]);
  });

  it('sleep rejects on abort and leaves no timer behind', async () => {
    const s = new Scheduler();
    const ac = new AbortController();
    const p = sleep(s, 1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(s.next()).toBeUndefined();
  });
});
