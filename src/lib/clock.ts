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
 * The process's monotonic clock (`performance.now()`), running `speed` times faster when asked
 * (tests run real sockets on a fast clock). Its timers do not keep the process alive: a shell that
 * must stay up holds a socket or a promise of its own, so a forgotten timer never delays an exit.
 *
 * A timer never runs before its time on this clock: Node's `setTimeout` counts whole milliseconds
 * of the event loop's cached time and fires up to about 2 ms early as `performance.now()` sees it
 * (most fractional delays do). A governor wake-up that ran early would find nothing due and never
 * be armed again, so an early firing waits out the rest.
 */
export function monotonicClock(speed = 1): Clock {
  const now = (): Millis => performance.now() * speed;
  return {
    now,
    setTimer(delay, fn) {
      const due = now() + Math.max(0, delay);
      let t: ReturnType<typeof setTimeout>;
      const arm = (ms: Millis): void => {
        t = setTimeout(fire, ms / speed);
        t.unref();
      };
      const fire = (): void => {
        const left = due - now();
        if (left > 0) arm(left);
        else fn();
      };
      arm(Math.max(0, delay));
      return { cancel: () => clearTimeout(t) };
    },
  };
}

/** The process's monotonic clock: the live node's. */
export const systemClock: Clock = monotonicClock();

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
