/**
 * A signal that aborts when a parent signal does or after a time limit, whichever comes first.
 *
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 the combined signal holds its
 * sources weakly, so once a garbage collection has run the timeout signal is gone and the limit never
 * fires (a body sent one byte a second then ran for minutes past --source-timeout). Here the timer is
 * our own, held by the clock until it runs or `dispose()` cancels it.
 */
import { type Clock, type Millis, systemClock } from './clock.js';

export interface TimeLimit {
  /** Aborts with the parent's reason, or with `reason()` (default a `TimeoutError`) when the time is up. */
  readonly signal: AbortSignal;
  /** True when the time limit (not the parent) aborted the signal. */
  readonly timedOut: boolean;
  /** Cancels the timer and forgets the parent; the signal stays as it is. Idempotent. */
  dispose(): void;
}

export interface TimeLimitOptions {
  /** Aborting this aborts the signal too (with this signal's reason). */
  parent?: AbortSignal | undefined;
  /** The abort reason when the time is up (default a DOMException named TimeoutError, as AbortSignal.timeout). */
  reason?: () => unknown;
  clock?: Clock;
}

export function timeLimit(ms: Millis, options: TimeLimitOptions = {}): TimeLimit {
  const controller = new AbortController();
  const { parent } = options;
  let timedOut = false;
  const onParent = (): void => {
    timer.cancel();
    controller.abort(parent?.reason);
  };
  const timer = (options.clock ?? systemClock).setTimer(ms, () => {
    parent?.removeEventListener('abort', onParent);
    if (controller.signal.aborted) return;
    timedOut = true;
    controller.abort(
      options.reason ? options.reason() : new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    );
  });
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      timer.cancel();
      parent?.removeEventListener('abort', onParent);
    },
  };
}
