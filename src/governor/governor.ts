/**
 * The governor's step function (the reference's `peerSelectionGovernorLoop`, governor.md §2.4).
 *
 * `step(state, inputs, now, rng)` records what the shell reports (completions, target and
 * local-root changes, connection statuses, inbound peers), advances the time-keyed structures to
 * `now`, then repeatedly takes the first ready decision in the reference's priority order until
 * none is ready. It returns the new state, the decisions taken (each with its trace and jobs for
 * the shell to perform) and the time at which it should be called again if nothing else happens.
 *
 * Pure: no I/O, no clock, no global randomness. The given state is not modified (the step works on
 * a copy, unless the caller hands it over with `consume`); the generator is advanced.
 */
import { bootstrapDeadlinePassed, type CriticalError, preBlocking } from './bootstrap.js';
import * as activePeers from './decisions/active-peers.js';
import * as bigLedgerPeers from './decisions/big-ledger-peers.js';
import * as establishedPeers from './decisions/established-peers.js';
import { type Ctx, type DecisionFn, orElse } from './decisions/guarded.js';
import * as knownPeers from './decisions/known-peers.js';
import * as monitor from './decisions/monitor.js';
import * as rootPeers from './decisions/root-peers.js';
import type { MetricScores } from './peer-metrics.js';
import { DEFAULT_POLICY, type GovernorPolicy } from './policies.js';
import type { Rng } from './rng.js';
import { setCurrentTime } from './state.js';
import {
  type Counters,
  cloneState,
  counters,
  type Decision,
  type GovernorState,
  type Input,
  type Job,
  type Time,
} from './types.js';

/**
 * All decisions in priority order (left-biased: the first ready one wins). The targets monitor
 * must come before the local-roots monitor: initial targets are zero and installing roots first
 * would break "local roots <= known target".
 */
export const guardedDecisions: DecisionFn = orElse(
  preBlocking,
  monitor.connections,
  monitor.jobs,
  monitor.targets,
  monitor.localRoots,
  bigLedgerPeers.belowTarget,
  bigLedgerPeers.aboveTarget,
  rootPeers.belowTarget,
  knownPeers.belowTarget,
  knownPeers.aboveTarget,
  establishedPeers.belowTarget,
  establishedPeers.aboveTarget,
  activePeers.belowTarget,
  activePeers.aboveTarget,
);

export interface StepOptions {
  policy?: GovernorPolicy;
  /** Hot-demotion scores from the shell's peer metrics. */
  metrics?: MetricScores | undefined;
  /** Livelock guard: at most this many decisions in one step (the reference's test allows 1000 per instant). */
  maxDecisions?: number;
  /**
   * The caller hands the state over and will not use it again (a simulator or a live shell that
   * only keeps the newest state): the step then updates its collections instead of copying them
   * first, which keeps a decision's cost independent of the number of known peers. The result is
   * the same as with a copy.
   */
  consume?: boolean;
}

export interface StepResult {
  state: GovernorState;
  decisions: Decision[];
  /** All jobs of all decisions, in order. */
  jobs: Job[];
  /** Call `step` again at this time if no input arrives earlier (undefined: only on input). */
  wakeupAt: Time | undefined;
  counters: Counters;
  /** The decision limit was hit (a livelock). */
  livelock: boolean;
  /**
   * The bootstrap-peers deadline passed (the reference throws and the node restarts): no decision
   * was taken; every later step reports it again until the shell replaces the state.
   */
  critical?: CriticalError;
}

/** Records the shell's reports in the state (the reference's TVars and job queue). */
export function applyInputs(s: GovernorState, inputs: readonly Input[]): void {
  for (const input of inputs) {
    switch (input.kind) {
      case 'completion':
        s.completions.push(input.completion);
        break;
      case 'targets':
        s.targetsVar = { ...input.targets };
        break;
      case 'localRoots':
        s.localRootsVar = input.groups;
        break;
      case 'peerStatus':
        s.connStatus.set(
          input.peer,
          input.repromoteDelayMs === undefined
            ? { status: input.status }
            : { status: input.status, repromoteDelayMs: input.repromoteDelayMs },
        );
        break;
      case 'inboundPeers':
        s.inboundPeers = new Map(input.peers);
        break;
      case 'syncTargets':
        s.syncTargetsVar = { ...input.targets };
        break;
      case 'ledgerStateJudgement':
        s.ledgerStateJudgementVar = input.judgement;
        break;
      case 'useBootstrapPeers':
        s.useBootstrapPeersVar = input.enabled;
        break;
      case 'consensusMode':
        s.consensusMode = input.mode;
        break;
      case 'useLedgerPeers':
        s.useLedgerPeers = input.enabled;
        break;
    }
  }
}

export function step(
  state: GovernorState,
  inputs: readonly Input[],
  now: Time,
  rng: Rng,
  options: StepOptions = {},
): StepResult {
  const s = options.consume ? state : cloneState(state);
  const policy = options.policy ?? DEFAULT_POLICY;
  const ctx: Ctx = { now, rng, policy, metrics: options.metrics, blp: undefined, blpStore: undefined };
  const maxDecisions = options.maxDecisions ?? 1000;
  applyInputs(s, inputs);
  setCurrentTime(s, Math.max(now, s.now));
  const decisions: Decision[] = [];
  const jobs: Job[] = [];
  let wakeupAt: Time | undefined;
  let livelock = false;
  // The loop's abort check comes before any decision (governor.md §2.4 step 2).
  const critical = bootstrapDeadlinePassed(s, now);
  if (critical) {
    const d: Decision = {
      at: now,
      trace: [{ type: 'BootstrapPeersCriticalTimeoutError', detail: `deadline ${critical.deadline / 1000}` }],
      jobs: [],
    };
    return {
      state: s,
      decisions: [d],
      jobs: [],
      wakeupAt: undefined,
      counters: counters(s),
      livelock,
      critical,
    };
  }
  for (;;) {
    ctx.blp = undefined; // counted afresh for each evaluation (the last decision changed the sets)
    const g = guardedDecisions(s, ctx);
    if (!g.ready) {
      wakeupAt = g.wakeup !== undefined && g.wakeup > now ? g.wakeup : undefined;
      break;
    }
    if (decisions.length >= maxDecisions) {
      livelock = true;
      break;
    }
    const outcome = g.run();
    s.decisionCount++;
    decisions.push({ at: now, trace: outcome.trace, jobs: outcome.jobs });
    jobs.push(...outcome.jobs);
    setCurrentTime(s, now);
  }
  // Timers that fall due later than now are wake-ups too (fail-count resets, share timers...).
  wakeupAt = minDefined(wakeupAt, nextTimer(s, now));
  // The last evaluation counted the big ledger peers of the final state (nothing changed since).
  return { state: s, decisions, jobs, wakeupAt, counters: counters(s, livelock ? undefined : ctx.blp), livelock };
}

function minDefined(a: Time | undefined, b: Time | undefined): Time | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * The earliest pending timer after `now` that the guards' own wake-ups do not cover. Connect
 * backoffs and activation delays are not here: every guard they hold back names them as its skip's
 * wake-up (as in the reference, whose loop wakes only on guard wake-ups), and a wake-up at a timer
 * no guard waits on found nothing to do. Nor are fail-count resets: nothing waits on them, and
 * `setCurrentTime` applies those due at the start of the next step, before any decision reads a
 * fail count (`failCountAt` gives observers the count as of now). Share timers stay: the order in
 * which expired ones join the shareable peers decides which peers a later request picks.
 */
function nextTimer(s: GovernorState, now: Time): Time | undefined {
  // Called after every step: plain loops and a top-level helper (no closure made per call).
  let t: Time | undefined;
  for (const x of s.nextShare.values()) t = earlierAfter(t, x, now);
  if (s.inProgressPublicRootsReq === false) t = earlierAfter(t, s.publicRootRetryTime, now);
  if (s.inProgressBigLedgerPeersReq === false) t = earlierAfter(t, s.bigLedgerPeerRetryTime, now);
  t = earlierAfter(t, s.inboundPeersRetryTime, now);
  // The bootstrap deadline is reported exactly when due.
  if (s.bootstrapPeersTimeout !== undefined) t = earlierAfter(t, s.bootstrapPeersTimeout, now);
  return t;
}

/** `x` if it is after `now` and before `t` (or `t` is undefined), else `t`. */
function earlierAfter(t: Time | undefined, x: Time, now: Time): Time | undefined {
  return x > now && (t === undefined || x < t) ? x : t;
}
