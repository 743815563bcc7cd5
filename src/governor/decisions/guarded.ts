/**
 * Guarded decisions (the reference's `Guarded`, governor.md §2.4): a decision function looks at the
 * state and either skips (optionally naming the time at which it could become possible) or offers
 * an action. Decision functions are combined in priority order and the first ready one is taken
 * (left-biased choice); the wake-up time is the minimum over all skips.
 */
import type { MetricScores } from '../peer-metrics.js';
import type { GovernorPolicy } from '../policies.js';
import type { Rng } from '../rng.js';
import type { GovernorState, Job, Peer, Time, TraceEvent } from '../types.js';

/** How many big ledger peers each peer set holds (the rest of each set are other peers). */
export interface BlpCounts {
  established: number;
  active: number;
  promoteCold: number;
  promoteWarm: number;
  demoteWarm: number;
  demoteHot: number;
}

export interface Ctx {
  now: Time;
  rng: Rng;
  policy: GovernorPolicy;
  /** Hot-demotion scores, from the shell's peer metrics (absent: every peer scores 0). */
  metrics: MetricScores | undefined;
  /**
   * The big ledger peer counts of the state being looked at, counted on first use: the guards of
   * one evaluation all see the same state, so they count once instead of each walking the peer
   * sets. `step` clears it before every evaluation (a decision changes the sets).
   */
  blp?: BlpCounts | undefined;
  /** The object `blp` is counted into, reused by every evaluation of one step (no allocation each). */
  blpStore?: BlpCounts | undefined;
}

/** The big ledger peers in each peer set: one pass over the (few) big ledger peers. */
export function blpCounts(s: GovernorState, ctx: Ctx): BlpCounts {
  if (ctx.blp) return ctx.blp;
  let c = ctx.blpStore;
  if (c) {
    c.established = 0;
    c.active = 0;
  } else {
    c = { established: 0, active: 0, promoteCold: 0, promoteWarm: 0, demoteWarm: 0, demoteHot: 0 };
    ctx.blpStore = c;
  }
  const blp = s.publicRoots.bigLedger;
  for (const p of blp) {
    if (s.established.has(p)) c.established++;
    if (s.active.has(p)) c.active++;
  }
  // The in-flight sets are small (often empty): walked themselves.
  c.promoteCold = countIn(blp, s.inProgressPromoteCold);
  c.promoteWarm = countIn(blp, s.inProgressPromoteWarm);
  c.demoteWarm = countIn(blp, s.inProgressDemoteWarm);
  c.demoteHot = countIn(blp, s.inProgressDemoteHot);
  ctx.blp = c;
  return c;
}

function countIn(set: ReadonlySet<Peer>, peers: ReadonlySet<Peer>): number {
  let n = 0;
  if (peers.size > 0) for (const p of peers) if (set.has(p)) n++;
  return n;
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

/** The alternatives of each choice made by `orElse`, so that a choice of choices can be flattened. */
const alternativesOf = new WeakMap<DecisionFn, readonly DecisionFn[]>();

/**
 * Left-biased choice: the first ready alternative, or a skip with the earliest wake-up. An
 * alternative that is itself a choice is replaced by its own alternatives (the same result: the
 * same first ready one, the same earliest wake-up), so the step's priority list is evaluated as
 * one flat loop rather than through nested choices, each making its own skip.
 */
export function orElse(...alternatives: DecisionFn[]): DecisionFn {
  const fns: DecisionFn[] = [];
  for (const fn of alternatives) fns.push(...(alternativesOf.get(fn) ?? [fn]));
  const choice: DecisionFn = (s, ctx) => {
    let wakeup: Time | undefined;
    for (let i = 0; i < fns.length; i++) {
      const g = (fns[i] as DecisionFn)(s, ctx);
      if (g.ready) return g;
      if (g.wakeup !== undefined && (wakeup === undefined || g.wakeup < wakeup)) wakeup = g.wakeup;
    }
    return skip(wakeup);
  };
  alternativesOf.set(choice, fns);
  return choice;
}

export function newJobId(s: GovernorState): number {
  const id = s.nextJobId;
  s.nextJobId = id + 1;
  return id;
}
