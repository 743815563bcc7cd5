import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../../src/lib/abort.js';
import { Scheduler } from '../../src/sim/scheduler.js';

// A full garbage collection on demand: the bug this helper avoids only shows after one.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Resolves with what happened first: the signal aborted, or `ms` of real time passed (a bound, not a wait). */
function abortedWithin(signal: AbortSignal, ms: number): Promise<'aborted' | 'not aborted'> {
  return new Promise((resolve) => {
    const bound = setTimeout(() => resolve('not aborted'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(bound);
      resolve('aborted');
    });
  });
}

describe('timeLimit', () => {
  it('fires after its time even when a garbage collection ran and only the signal is held', async () => {
    const parent = new AbortController();
    const signal = timeLimit(100, { parent: parent.signal }).signal;
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    expect(await abortedWithin(signal, 5_000)).toBe('aborted');
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('aborts with the parent reason when the parent aborts first, and then cancels its timer', () => {
    const parent = new AbortController();
    const clock = new Scheduler();
    const limit = timeLimit(1000, { parent: parent.signal, clock });
    parent.abort('stop');
    expect(limit.signal.aborted).toBe(true);
    expect(limit.signal.reason).toBe('stop');
    expect(limit.timedOut).toBe(false);
    expect(clock.next()).toBeUndefined();
  });

  it('an already aborted parent aborts at once; a custom reason when the time is up', () => {
    const clock = new Scheduler();
    expect(timeLimit(1000, { parent: AbortSignal.abort('early'), clock }).signal.reason).toBe('early');
    const limit = timeLimit(1000, { clock, reason: () => new Error('too slow') });
    clock.run({ until: 999 });
    expect(limit.signal.aborted).toBe(false);
    clock.run({ until: 1000 });
    expect(limit.timedOut).toBe(true);
    expect((limit.signal.reason as Error).message).toBe('too slow');
  });

  it('dispose cancels the timer and forgets the parent', () => {
    const parent = new AbortController();
    const clock = new Scheduler();
    const limit = timeLimit(10, { parent: parent.signal, clock });
    limit.dispose();
    clock.run({ until: 100 });
    parent.abort();
    expect(limit.signal.aborted).toBe(false);
    limit.dispose();
  });
});
