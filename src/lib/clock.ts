/**
 * Time as spo's cores and shells see it. One unit everywhere: milliseconds on a monotonic clock
 * (docs/CONVENTIONS.md). Pure code takes `now` as a value; shells take a `Clock`, so the live node
 * runs on the system clock and the simulator and the tests on a scheduler in virtual time
 * (src/sim/scheduler.ts).
 */

/** Milliseconds on a monotonic clock (not wall-clock time; the origin is the clock's own). */
export type Millis = number;

/** A timer that can be cancelled; cancelling a timer that already ran (or twice) does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** The current time. Never goes backwards. */
  now(): Millis;
  /** Runs `fn` once, `delay` ms from now (a delay below 0 counts as 0). */
  setTimer(delay: Millis, fn: () => void): Timer;
}

/**
 * The process's monotonic clock. Its timers do not keep the process alive: a shell that must stay
 * up holds a socket or a promise of its own, so a forgotten timer never delays an exit.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delay, fn) {
    const t = setTimeout(fn, Math.max(0, delay));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Waits `delay` ms on `clock`; rejects with the signal's reason when it aborts first. The timer is
 * cancelled and the listener removed either way, so nothing is left behind.
 */
export function sleep(clock: Clock, delay: Millis, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(delay, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
