/**
 * The churn governor (Cardano's `PeerSelection/Churn.hs`, governor.md §4), as a pure state machine.
 *
 * It never picks peers: it lowers targets, waits until the governor's counters show that the
 * governor followed (or the step's timeout fires), then restores them, in the 12-step cycle of
 * §4.3. The governor's policies decide who leaves and who enters. Between cycles it waits a fuzzed
 * interval (deadline: 3300 s + U(0, 600 s); bulk sync: 900 s + U(0, 60 s)) minus the cycle's duration.
 *
 * Drive it with `churnStep(state, {now, counters, ...}, rng)` whenever the counters change or its
 * wake-up time is reached; write the returned targets into the governor's targets input.
 */
import type { FetchMode } from './peer-metrics.js';
import type { Rng } from './rng.js';
import { type ConsensusMode, type Counters, type Targets, type Time, targetsEqual } from './types.js';

/** Churn regime: deadline (caught up), Praos bulk sync, or bulk sync with bootstrap peers. */
export type ChurnRegime = 'default' | 'praosSync' | 'bootstrapPraosSync';

export const DEADLINE_CHURN_INTERVAL_MS = 3_300_000;
export const DEADLINE_CHURN_FUZZ_MS = 600_000;
export const BULK_CHURN_INTERVAL_MS = 900_000;
export const BULK_CHURN_FUZZ_MS = 60_000;
/** Startup: root target 0 for this long to give local roots and big ledger peers a head start. */
export const CHURN_STARTUP_DELAY_MS = 3_000;

export type ChurnAction =
  | 'DecreasedActiveBigLedgerPeers'
  | 'IncreasedActiveBigLedgerPeers'
  | 'DecreasedEstablishedBigLedgerPeers'
  | 'DecreasedKnownBigLedgerPeers'
  | 'IncreasedKnownBigLedgerPeers'
  | 'IncreasedEstablishedBigLedgerPeers'
  | 'DecreasedActivePeers'
  | 'IncreasedActivePeers'
  | 'DecreasedEstablishedPeers'
  | 'DecreasedKnownPeers'
  | 'IncreasedKnownPeers'
  | 'IncreasedEstablishedPeers';

/** The 12 steps in the order the reference's code runs them (§4.3; §14.3.7: the code is authoritative). */
export const CHURN_STEPS: readonly ChurnAction[] = [
  'DecreasedActiveBigLedgerPeers',
  'IncreasedActiveBigLedgerPeers',
  'DecreasedEstablishedBigLedgerPeers',
  'DecreasedKnownBigLedgerPeers',
  'IncreasedKnownBigLedgerPeers',
  'IncreasedEstablishedBigLedgerPeers',
  'DecreasedActivePeers',
  'IncreasedActivePeers',
  'DecreasedEstablishedPeers',
  'DecreasedKnownPeers',
  'IncreasedKnownPeers',
  'IncreasedEstablishedPeers',
];

/** Per-step timeouts (ms; in seconds: deactivate 300, close 1 + 120, peer-share 2·10 + 60, establish 60). */
export const CHURN_STEP_TIMEOUTS_MS: Readonly<Record<ChurnAction, number>> = {
  DecreasedActiveBigLedgerPeers: 300_000,
  IncreasedActiveBigLedgerPeers: 60_000,
  DecreasedEstablishedBigLedgerPeers: 121_000,
  DecreasedKnownBigLedgerPeers: 60_000,
  IncreasedKnownBigLedgerPeers: 80_000,
  IncreasedEstablishedBigLedgerPeers: 60_000,
  DecreasedActivePeers: 300_000,
  IncreasedActivePeers: 60_000,
  DecreasedEstablishedPeers: 121_000,
  DecreasedKnownPeers: 60_000,
  IncreasedKnownPeers: 80_000,
  IncreasedEstablishedPeers: 60_000,
};

/** Replace 20%, at least one: max(0, v − max(1, ⌊v/5⌋)). */
export function decrease(v: number): number {
  return Math.max(0, v - Math.max(1, Math.floor(v / 5)));
}

/** Like `decrease` but at least `u` (how many the tier above just churned). */
export function decreaseWithMin(u: number, v: number): number {
  return Math.max(0, v - Math.max(u, Math.max(1, Math.floor(v / 5))));
}

export interface ChurnTrace {
  at: Time;
  action: ChurnAction | 'Startup' | 'FullTargets' | 'CycleDone';
  /** true: the step's condition held; false: its timeout fired. */
  ok: boolean;
  /** How long the step took (ms). */
  durationMs: number;
  /** How many peers actually changed (absolute counter delta). */
  delta: number;
  /** The watched counter after minus before (the node's `ChurnCounter`; negative for a decrease). */
  change: number;
  targets: Targets;
}

export interface ChurnState {
  phase: 'init' | 'startup' | 'interval' | 'step';
  /** Index into CHURN_STEPS while in a step. */
  step: number;
  stepStarted: Time;
  /** The counter value watched by the current step, when it started. */
  stepStartValue: number;
  cycleStarted: Time;
  /** When the current wait (startup, interval) ends. */
  waitUntil: Time;
  /** Deltas of steps 1, 3, 7 and 9 (`d1`, `d3`, `d7`, `d9`). */
  deltas: Record<number, number>;
  /** The targets churn currently asks for. */
  targets: Targets;
  cycles: number;
  /** The base targets seen last: when they change (new configuration), the churn starts from them. */
  lastBase?: Targets | undefined;
  /** The regime seen last: a change (the node caught up, or fell behind) restarts from the base targets too. */
  lastRegime?: ChurnRegime | undefined;
}

export interface ChurnInput {
  now: Time;
  counters: Counters;
  /** The configured (base) targets; re-read every step. */
  base: Targets;
  regime?: ChurnRegime;
  /** The fetch mode decides the interval: deadline or bulk sync. */
  fetchMode?: FetchMode;
  /** A Genesis-mode node churns at the long (deadline) interval whatever its fetch mode. */
  consensusMode?: ConsensusMode;
  /** Sum of local-root hot valencies (`ltt` in the bulk-sync regimes). */
  localRootHotTarget?: number;
  /**
   * Testnets only (`spo testnet`): the time between cycles is this plus the same relative fuzz,
   * U(0, intervalMs × 600/3300), in every regime; undefined: the reference's intervals. Only the
   * time scale changes; the cycle itself is the reference's.
   */
  intervalMs?: number;
}

export interface ChurnResult {
  state: ChurnState;
  /** New targets to install, when they changed. */
  targets: Targets | undefined;
  trace: ChurnTrace[];
  /** Call again at this time if the counters do not change earlier. */
  wakeupAt: Time;
}

export function initialChurnState(): ChurnState {
  return {
    phase: 'init',
    step: 0,
    stepStarted: 0,
    stepStartValue: 0,
    cycleStarted: 0,
    waitUntil: 0,
    deltas: {},
    targets: {
      root: 0,
      known: 0,
      established: 0,
      active: 0,
      knownBigLedger: 0,
      establishedBigLedger: 0,
      activeBigLedger: 0,
    },
    cycles: 0,
  };
}

function syncActiveCap(input: ChurnInput): number {
  return Math.max(1, input.localRootHotTarget ?? 0);
}

/** Active big ledger peers in both Praos bulk-sync regimes: at most one, never churned. */
function syncActiveBigLedger(base: Targets): number {
  return Math.min(1, base.activeBigLedger);
}

/**
 * The targets installed between churn cycles (and 3 s after start-up): the base targets, except in
 * `bootstrapPraosSync`, which keeps hot peers capped at max(1, local-root hot valency) + 1 and
 * active big ledger peers at 1 (the reference's start-up keeps them; `praosSync` installs the
 * base targets and caps only in its churn steps).
 */
function steadyTargets(input: ChurnInput): Targets {
  const b = input.base;
  if ((input.regime ?? 'default') !== 'bootstrapPraosSync') return { ...b };
  return { ...b, active: Math.min(syncActiveCap(input) + 1, b.active), activeBigLedger: syncActiveBigLedger(b) };
}

/** Deadline fetch mode or Genesis: 3300 s + U(0, 600 s); bulk sync (Praos): 900 s + U(0, 60 s). */
function interval(input: ChurnInput, rng: Rng): number {
  if (input.intervalMs !== undefined)
    return input.intervalMs + rng.uniform(0, (input.intervalMs * DEADLINE_CHURN_FUZZ_MS) / DEADLINE_CHURN_INTERVAL_MS);
  return (input.fetchMode ?? 'deadline') === 'deadline' || input.consensusMode === 'genesis'
    ? DEADLINE_CHURN_INTERVAL_MS + rng.uniform(0, DEADLINE_CHURN_FUZZ_MS)
    : BULK_CHURN_INTERVAL_MS + rng.uniform(0, BULK_CHURN_FUZZ_MS);
}

/** The counter a step watches. */
function watched(action: ChurnAction, c: Counters): number {
  switch (action) {
    case 'DecreasedActiveBigLedgerPeers':
    case 'IncreasedActiveBigLedgerPeers':
      return c.activeBigLedger;
    case 'DecreasedEstablishedBigLedgerPeers':
    case 'IncreasedEstablishedBigLedgerPeers':
      return c.establishedBigLedger;
    case 'DecreasedKnownBigLedgerPeers':
    case 'IncreasedKnownBigLedgerPeers':
      return c.knownBigLedger;
    case 'DecreasedActivePeers':
    case 'IncreasedActivePeers':
      return c.active;
    case 'DecreasedEstablishedPeers':
    case 'IncreasedEstablishedPeers':
      return c.established;
    case 'DecreasedKnownPeers':
    case 'IncreasedKnownPeers':
      return c.known;
  }
}

/**
 * The targets a step installs, from the base (configured) targets, the targets in force (`cur`)
 * and the regime, as the reference's `Churn.hs` (cardano-diffusion, checked at d80f488):
 * the bulk-sync regimes cap hot peers (decrease to min(max(1, ltt), active − 1), increase to
 * min(max(1, ltt) + 1, active)) and keep active big ledger peers at min(1, base) in both steps;
 * `bootstrapPraosSync` churns established peers by one around the active target in force.
 */
export function stepTargets(
  action: ChurnAction,
  cur: Targets,
  input: ChurnInput,
  deltas: Record<number, number>,
): Targets {
  const b = input.base;
  const regime = input.regime ?? 'default';
  switch (action) {
    case 'DecreasedActiveBigLedgerPeers':
      return {
        ...cur,
        activeBigLedger: regime === 'default' ? decrease(b.activeBigLedger) : syncActiveBigLedger(b),
      };
    case 'IncreasedActiveBigLedgerPeers':
      return { ...cur, activeBigLedger: regime === 'default' ? b.activeBigLedger : syncActiveBigLedger(b) };
    case 'DecreasedEstablishedBigLedgerPeers':
      return {
        ...cur,
        establishedBigLedger:
          decreaseWithMin(deltas[1] ?? 0, b.establishedBigLedger - b.activeBigLedger) + b.activeBigLedger,
      };
    case 'DecreasedKnownBigLedgerPeers':
      return {
        ...cur,
        knownBigLedger:
          decreaseWithMin(deltas[3] ?? 0, b.knownBigLedger - b.establishedBigLedger) + b.establishedBigLedger,
      };
    case 'IncreasedKnownBigLedgerPeers':
      return { ...cur, knownBigLedger: b.knownBigLedger };
    case 'IncreasedEstablishedBigLedgerPeers':
      return { ...cur, establishedBigLedger: b.establishedBigLedger };
    case 'DecreasedActivePeers': {
      const active =
        regime === 'default' ? decrease(b.active) : Math.max(0, Math.min(syncActiveCap(input), b.active - 1));
      return { ...cur, active };
    }
    case 'IncreasedActivePeers':
      return { ...cur, active: regime === 'default' ? b.active : Math.min(syncActiveCap(input) + 1, b.active) };
    case 'DecreasedEstablishedPeers': {
      const established =
        regime === 'bootstrapPraosSync'
          ? Math.min(cur.active, b.established - 1)
          : decreaseWithMin(deltas[7] ?? 0, b.established - b.active) + b.active;
      return { ...cur, established: Math.max(established, cur.active) };
    }
    case 'DecreasedKnownPeers': {
      const known = decreaseWithMin(deltas[9] ?? 0, b.known - b.established) + b.established;
      // Kept <= known so the targets stay sane (a large d9 could otherwise push root above known,
      // and the governor would ignore the whole update; docs/governor-deviations.md).
      const root = Math.min(b.root, decrease(b.root - b.established) + b.established, known);
      return { ...cur, known, root };
    }
    case 'IncreasedKnownPeers':
      return { ...cur, known: b.known, root: b.root };
    case 'IncreasedEstablishedPeers':
      return {
        ...cur,
        established: regime === 'bootstrapPraosSync' ? Math.min(cur.active + 1, b.established) : b.established,
      };
  }
}

/** Whether a step's "done" condition holds. */
function stepDone(action: ChurnAction, t: Targets, c: Counters): boolean {
  switch (action) {
    case 'DecreasedActiveBigLedgerPeers':
      return c.activeBigLedger <= t.activeBigLedger;
    case 'IncreasedActiveBigLedgerPeers':
      return c.activeBigLedger >= t.activeBigLedger;
    case 'DecreasedEstablishedBigLedgerPeers':
      return c.establishedBigLedger <= t.establishedBigLedger;
    case 'DecreasedKnownBigLedgerPeers':
      return c.knownBigLedger <= t.knownBigLedger;
    case 'IncreasedKnownBigLedgerPeers':
      return c.knownBigLedger >= t.knownBigLedger;
    case 'IncreasedEstablishedBigLedgerPeers':
      return c.establishedBigLedger >= t.establishedBigLedger;
    case 'DecreasedActivePeers':
      return c.active <= t.active;
    case 'IncreasedActivePeers':
      return c.active >= t.active;
    case 'DecreasedEstablishedPeers':
      return c.established <= t.established;
    case 'DecreasedKnownPeers':
      return c.known <= t.known; // the root target is not checked
    case 'IncreasedKnownPeers':
      return c.root >= t.root && c.known >= t.known;
    case 'IncreasedEstablishedPeers':
      return c.established >= t.established;
  }
}

/** Advances the churn state machine to `input.now`. */
export function churnStep(state: ChurnState, input: ChurnInput, rng: Rng): ChurnResult {
  // The common call: a step waiting for its counter, same configuration and regime, neither done
  // nor timed out. Nothing changes (the full path below would return an equal state).
  if (
    state.phase === 'step' &&
    state.lastBase !== undefined &&
    state.lastRegime === (input.regime ?? 'default') &&
    targetsEqual(state.lastBase, input.base)
  ) {
    const action = CHURN_STEPS[state.step] as ChurnAction;
    const due = state.stepStarted + CHURN_STEP_TIMEOUTS_MS[action];
    if (!stepDone(action, state.targets, input.counters) && input.now < due)
      return { state: { ...state }, targets: undefined, trace: [], wakeupAt: due };
  }
  // One working copy, changed in place below (no closures or copies per call: the driver calls
  // this after most governor steps while a churn step waits for its counter).
  const s: ChurnState = { ...state, deltas: { ...state.deltas }, targets: { ...state.targets } };
  const trace: ChurnTrace[] = [];
  let changed = false;
  const now = input.now;

  // A new configuration: the targets restart from it (an ongoing step keeps its own field lowered).
  const regime = input.regime ?? 'default';
  if (
    s.phase !== 'init' &&
    s.lastBase &&
    (!targetsEqual(s.lastBase, input.base) || (s.lastRegime !== undefined && s.lastRegime !== regime))
  ) {
    const fresh = steadyTargets(input);
    s.targets = s.phase === 'step' ? stepTargets(CHURN_STEPS[s.step] as ChurnAction, fresh, input, s.deltas) : fresh;
    changed = true;
  }
  s.lastBase = { ...input.base };
  s.lastRegime = regime;

  for (let guard = 0; guard < 64; guard++) {
    if (s.phase === 'init') {
      // Root target 0 at first: local roots and big ledger peers get a head start.
      s.targets = { ...steadyTargets(input), root: 0 };
      changed = true;
      s.phase = 'startup';
      s.waitUntil = now + CHURN_STARTUP_DELAY_MS;
      trace.push({ at: now, action: 'Startup', ok: true, durationMs: 0, delta: 0, change: 0, targets: s.targets });
      continue;
    }
    if (s.phase === 'startup') {
      if (now < s.waitUntil) break;
      s.targets = steadyTargets(input);
      changed = true;
      trace.push({ at: now, action: 'FullTargets', ok: true, durationMs: 0, delta: 0, change: 0, targets: s.targets });
      s.phase = 'interval';
      s.waitUntil = now + interval(input, rng);
      continue;
    }
    if (s.phase === 'interval') {
      if (now < s.waitUntil) break;
      s.cycleStarted = now;
      s.deltas = {};
      startStep(s, 0, input);
      changed = true;
      continue;
    }
    // In a step: done, or timed out?
    const action = CHURN_STEPS[s.step] as ChurnAction;
    const done = stepDone(action, s.targets, input.counters);
    const timedOut = now >= s.stepStarted + CHURN_STEP_TIMEOUTS_MS[action];
    if (!done && !timedOut) break;
    const change = watched(action, input.counters) - s.stepStartValue;
    const delta = Math.abs(change);
    if (s.step === 0 || s.step === 2 || s.step === 6 || s.step === 8) s.deltas[s.step + 1] = delta;
    trace.push({ at: now, action, ok: done, durationMs: now - s.stepStarted, delta, change, targets: s.targets });
    if (s.step + 1 < CHURN_STEPS.length) {
      startStep(s, s.step + 1, input);
      changed = true;
      continue;
    }
    const cycleDuration = now - s.cycleStarted;
    trace.push({
      at: now,
      action: 'CycleDone',
      ok: true,
      durationMs: cycleDuration,
      delta: 0,
      change: 0,
      targets: s.targets,
    });
    s.phase = 'interval';
    s.cycles = s.cycles + 1;
    s.waitUntil = now + Math.max(0, interval(input, rng) - cycleDuration);
  }
  const wakeupAt =
    s.phase === 'step' ? s.stepStarted + CHURN_STEP_TIMEOUTS_MS[CHURN_STEPS[s.step] as ChurnAction] : s.waitUntil;
  return { state: s, targets: changed ? { ...s.targets } : undefined, trace, wakeupAt };
}

/** Starts step `i` of the cycle on the working state: its watched counter now, its targets installed. */
function startStep(s: ChurnState, i: number, input: ChurnInput): void {
  const action = CHURN_STEPS[i] as ChurnAction;
  s.phase = 'step';
  s.step = i;
  s.stepStarted = input.now;
  s.stepStartValue = watched(action, input.counters);
  s.targets = stepTargets(action, s.targets, input, s.deltas);
}
