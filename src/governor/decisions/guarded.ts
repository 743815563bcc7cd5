/**
 * Guarded decisions (the reference's `Guarded`, governor.md §2.4): a decision function looks at the
 * state and either skips (optionally naming the time at which it could become possible) or offers
 * an action. Decision functions are combined in priority order and the first ready one is taken
 * (left-biased choice); the wake-up time is the minimum over all skips.
 */
import type { MetricScores } from '../peer-metrics.js';
import type { GovernorPolicy } from '../policies.js';
import type { Rng } from '../rng.js';
import type { GovernorState, Job, Time, TraceEvent } from '../types.js';

export interface Ctx {
  now: Time;
  rng: Rng;
  policy: GovernorPolicy;
  /** Hot-demotion scores, from the shell's peer metrics (absent: every peer scores 0). */
  metrics: MetricScores | undefined;
}

export interface Outcome {
  trace: TraceEvent[];
  jobs: Job[];
}

export type Guarded = { ready: false; wakeup: Time | undefined } | { ready: true; run: () => Outcome };

export type DecisionFn = (s: GovernorState, ctx: Ctx) => Guarded;

/** Skips without a wake-up are all alike: one shared value (guards are evaluated thousands of times a day). */
const SKIP: Guarded = Object.freeze({ ready: false, wakeup: undefined });
export const skip = (wakeup?: Time): Guarded => (wakeup === undefined ? SKIP : { ready: false, wakeup });
export const ready = (run: () => Outcome): Guarded => ({ ready: true, run });

/** Left-biased choice: the first ready alternative, or a skip with the earliest wake-up. */
export function orElse(...fns: DecisionFn[]): DecisionFn {
  return (s, ctx) => {
    let wakeup: Time | undefined;
    for (const fn of fns) {
      const g = fn(s, ctx);
      if (g.ready) return g;
      if (g.wakeup !== undefined && (wakeup === undefined || g.wakeup < wakeup)) wakeup = g.wakeup;
    }
    return skip(wakeup);
  };
}

export function newJobId(s: GovernorState): number {
  const id = s.nextJobId;
  s.nextJobId = id + 1;
  return id;
}
