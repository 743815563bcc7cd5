/**
 * The governor driver: the node loop every shell needs around the pure governor (src/governor),
 * written once for the dry run, the tests, the live node and the simulator.
 *
 *   inputs (shell reports, job completions) ──► step ──► jobs performed through the shell's actions
 *        ▲                                        │        (jobs.ts: the reference's job rules)
 *        └── churn governor (published counters) ◄┴──► wake-up timer on the Clock
 *
 * It owns the governor state and its inbox; feeds `step` whenever inputs arrived or its wake-up
 * time is reached (one step per instant at most, repeated while the step's jobs report at once);
 * runs the churn governor (`churnStep`) against the counters the governor publishes; records peer
 * metrics (header and block arrivals the shell reports) for hot demotion; checks the §2.8
 * invariants when asked; and reports typed trace events.
 *
 * It reads no clock and starts no timer of its own: everything goes through the injected `Clock`
 * (`systemClock` live, a `Scheduler` in virtual time). Times are milliseconds.
 */
import { type CardanoStatus, type CriticalError, cardanoStatus } from '../governor/bootstrap.js';
import { type ChurnRegime, type ChurnState, type ChurnTrace, churnStep, initialChurnState } from '../governor/churn.js';
import { step } from '../governor/governor.js';
import { checkInvariants } from '../governor/invariants.js';
import {
  addFetchMetric,
  addHeaderMetric,
  emptyMetrics,
  type FetchMode,
  type MetricScores,
  metricScores,
  notePeer,
  notePeers,
  type PeerMetrics,
  type Slot,
} from '../governor/peer-metrics.js';
import { DEFAULT_POLICY, type GovernorPolicy } from '../governor/policies.js';
import type { Rng } from '../governor/rng.js';
import {
  type ConsensusMode,
  type Counters,
  counters,
  type Decision,
  type GovernorState,
  type Input,
  initialState,
  type Job,
  type LedgerStateJudgement,
  type LocalRootGroupConfig,
  localRootHotTarget,
  type Peer,
  SYNC_DEFAULT_TARGETS,
  type Targets,
  targetsEqual,
} from '../governor/types.js';
import type { Clock, Millis, Timer } from '../lib/clock.js';
import type { DriverShell } from './actions.js';
import { JobRunner } from './jobs.js';
import type { ChurnTraceRecord, TraceRecord } from './trace.js';

/**
 * A clock, and for a clock in virtual time (the `Scheduler`) timers at an absolute time: a wake-up
 * computed as `now + (due - now)` can miss `due` by a rounding error, and a step a hair early sees
 * no timer due.
 */
export interface DriverClock extends Clock {
  at?(time: Millis, fn: () => void): Timer;
}

export interface DriverOptions {
  clock: DriverClock;
  /** The governor's randomness. */
  rng: Rng;
  /** The churn governor's randomness (its interval fuzz); default: split from `rng`. */
  churnRng?: Rng;
  shell: DriverShell;
  policy?: GovernorPolicy;
  /** Run the churn governor (otherwise the targets are installed as configured). */
  churn: boolean;
  /** Testnets only: churn cycles this far apart (plus the reference's relative fuzz) instead of ~1 h (ChurnInput.intervalMs). */
  churnIntervalMs?: Millis;
  /**
   * Check the §2.8 invariants after every step: 'throw' stops at the first violation, 'collect'
   * records them (`violations`); 'off' (default) skips the check, which walks the whole state.
   */
  invariants?: 'off' | 'collect' | 'throw';
  /** Stop with an error after this many decisions at one instant (default 1000). */
  maxDecisionsPerInstant?: number;
}

/** The node's configuration as the driver needs it (report each when it changes). */
export interface DriverConfig {
  consensusMode: ConsensusMode;
  /** Topology `useLedgerAfterSlot` reached. */
  useLedgerPeers: boolean;
  /** Topology `bootstrapPeers` present (`UseBootstrapPeers`). */
  useBootstrapPeers: boolean;
}

/** One governor step, for observers (tests, reports). */
export interface StepEvent {
  at: Millis;
  decisions: Decision[];
  jobs: Job[];
}

/** The governor stepped more than the limit at one instant (a livelock): a bug, not a condition. */
export class LivelockError extends Error {}

export class GovernorDriver {
  readonly policy: GovernorPolicy;
  state: GovernorState;
  churnState: ChurnState = initialChurnState();
  readonly metrics: PeerMetrics = emptyMetrics();
  /** Decisions taken, steps made, the most decisions at one instant. */
  decisionCount = 0;
  stepCount = 0;
  maxDecisionsAtOneInstant = 0;
  /** Invariant violations seen (with `invariants: 'collect'`). */
  readonly violations: Array<{ at: Millis; broken: string[] }> = [];
  /** The governor reported a critical error (the node would restart): the driver stopped stepping. */
  critical: (CriticalError & { at: Millis }) | undefined;

  private readonly clock: DriverClock;
  private readonly rng: Rng;
  private readonly churnRng: Rng;
  private readonly jobs: JobRunner;
  private readonly churn: boolean;
  private readonly churnIntervalMs: Millis | undefined;
  private readonly invariants: 'off' | 'collect' | 'throw';
  private readonly maxDecisions: number;
  private inbox: Input[] = [];
  /** The live views of the peer metrics, per fetch mode (see settle). */
  private readonly scores = new Map<FetchMode, MetricScores>();
  private settleTimer: Timer | undefined;
  private settling = false;
  /** When the governor must step again without new input (its last wake-up time). */
  private stepDueAt: Millis = 0;
  /** The wake-up timers armed, by time (one per distinct time). */
  private readonly wakeups = new Map<Millis, Timer>();
  private churnWake: Millis | undefined;
  /** Churn wake-ups armed and not yet run (a superseded one still runs, see runChurn). */
  private readonly churnTimers = new Set<Timer>();
  private stopped = false;
  private lastChurn: { counters: Counters; base: Targets; regime: ChurnRegime; wakeupAt: Millis } | undefined;
  private lastInstant: Millis = Number.NaN;
  private decisionsAtInstant = 0;
  private readonly traceListeners: Array<(r: TraceRecord) => void> = [];
  private readonly stepListeners: Array<(e: StepEvent) => void> = [];
  private readonly churnListeners: Array<(c: ChurnTrace) => void> = [];

  // What churn reads (the base targets and the regime).
  private configuredTargets: Targets | undefined;
  private syncTargets: Targets = { ...SYNC_DEFAULT_TARGETS };
  private consensusMode: ConsensusMode = 'praos';
  private useBootstrapPeers = false;
  private judgement: LedgerStateJudgement = 'youngEnough';
  private regimeOverride: ChurnRegime | undefined;
  private fetchModeOverride: FetchMode | undefined;

  constructor(options: DriverOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.churnRng = options.churnRng ?? options.rng.split();
    this.policy = options.policy ?? DEFAULT_POLICY;
    this.churn = options.churn;
    this.churnIntervalMs = options.churnIntervalMs;
    this.invariants = options.invariants ?? 'off';
    this.maxDecisions = options.maxDecisionsPerInstant ?? 1000;
    this.state = initialState(this.clock.now());
    this.jobs = new JobRunner(this.clock, options.shell, this.policy, (i) => this.push(i));
  }

  // -------------------------------------------------------------------------------------------
  // Inputs from the shell

  /** The node's configuration (consensus mode, ledger peers, bootstrap peers). */
  configure(config: DriverConfig): void {
    this.consensusMode = config.consensusMode;
    this.useBootstrapPeers = config.useBootstrapPeers;
    this.push({ kind: 'consensusMode', mode: config.consensusMode });
    this.push({ kind: 'useLedgerPeers', enabled: config.useLedgerPeers });
    this.push({ kind: 'useBootstrapPeers', enabled: config.useBootstrapPeers });
  }

  /** Consensus's judgement of the ledger state; the churn regime follows it unless fixed. */
  setJudgement(judgement: LedgerStateJudgement): void {
    this.judgement = judgement;
    this.push({ kind: 'ledgerStateJudgement', judgement });
    if (this.churn && this.configuredTargets) this.runChurn();
  }

  /** The configured targets: the churn governor's base targets, or installed as they are without churn. */
  setTargets(targets: Targets): void {
    this.configuredTargets = { ...targets };
    if (this.churn) this.runChurn();
    else this.push({ kind: 'targets', targets });
  }

  /** Genesis sync targets (`SyncTargetNumberOf*`). */
  setSyncTargets(targets: Targets): void {
    this.syncTargets = { ...targets };
    this.push({ kind: 'syncTargets', targets });
  }

  setLocalRoots(groups: readonly LocalRootGroupConfig[]): void {
    this.push({ kind: 'localRoots', groups });
  }

  /** Mature inbound duplex peers and their sharing flag (from the inbound governor). */
  setInboundPeers(peers: ReadonlyArray<[Peer, boolean]>): void {
    this.push({ kind: 'inboundPeers', peers });
  }

  /** Fixes the churn regime and fetch mode (undefined: follow the judgement). */
  setChurnMode(regime: ChurnRegime | undefined, fetchMode: FetchMode | undefined): void {
    this.regimeOverride = regime;
    this.fetchModeOverride = fetchMode;
  }

  /** A valid header of `slot` arrived from `peer` (chain-sync): peer metrics. */
  recordHeader(slot: Slot, peer: Peer, at: Millis): void {
    addHeaderMetric(this.metrics, slot, peer, at);
  }

  /** The block of `slot` arrived from `peer` (block-fetch): peer metrics. */
  recordFetch(slot: Slot, peer: Peer, bytes: number, at: Millis): void {
    addFetchMetric(this.metrics, slot, peer, bytes, at);
  }

  /** `peer` took part in `slot` but its delivery was not the first (keeps its join slot). */
  notePeer(slot: Slot, peer: Peer): void {
    notePeer(this.metrics, slot, peer);
  }

  /** `notePeer` for each of `peers`. */
  notePeers(slot: Slot, peers: Iterable<Peer>): void {
    notePeers(this.metrics, slot, peers);
  }

  // -------------------------------------------------------------------------------------------
  // Observing

  onTrace(listener: (r: TraceRecord) => void): void {
    this.traceListeners.push(listener);
  }

  onStep(listener: (e: StepEvent) => void): void {
    this.stepListeners.push(listener);
  }

  onChurn(listener: (c: ChurnTrace) => void): void {
    this.churnListeners.push(listener);
  }

  counters(): Counters {
    return counters(this.state);
  }

  cardano(): CardanoStatus {
    return cardanoStatus(this.state, this.policy);
  }

  /** The churn regime: fixed, or the one the judgement implies (governor.md §4.4). */
  regime(): ChurnRegime {
    if (this.regimeOverride) return this.regimeOverride;
    if (this.consensusMode === 'genesis' || this.judgement === 'youngEnough') return 'default';
    return this.useBootstrapPeers ? 'bootstrapPraosSync' : 'praosSync';
  }

  fetchMode(): FetchMode {
    if (this.fetchModeOverride) return this.fetchModeOverride;
    return this.regime() === 'default' ? 'deadline' : 'bulkSync';
  }

  // -------------------------------------------------------------------------------------------
  // The loop

  /**
   * Ends the driver: every timer it armed is cancelled, results of jobs still running are dropped
   * and later inputs are ignored, so a live node can shut down without a timer keeping it alive.
   */
  stop(): void {
    this.stopped = true;
    this.inbox = [];
    this.settleTimer?.cancel();
    this.settleTimer = undefined;
    for (const t of this.wakeups.values()) t.cancel();
    this.wakeups.clear();
    for (const t of this.churnTimers) t.cancel();
    this.churnTimers.clear();
    this.jobs.stop();
  }

  private push(input: Input): void {
    // After a critical error (the node would restart) or a stop nothing drains the inbox.
    if (this.critical || this.stopped) return;
    this.inbox.push(input);
    this.requestSettle();
  }

  /** Steps at the end of the current instant (after every event already due now). */
  private requestSettle(): void {
    if (this.settling || this.settleTimer || this.critical || this.stopped) return;
    this.settleTimer = this.clock.setTimer(0, this.onSettleTimer);
  }

  /** The settle timer's callback, made once (a settle is requested for most inputs). */
  private readonly onSettleTimer = (): void => {
    this.settleTimer = undefined;
    this.settle();
  };

  private timerAt(time: Millis, fn: () => void): Timer {
    return this.clock.at ? this.clock.at(time, fn) : this.clock.setTimer(time - this.clock.now(), fn);
  }

  private emit(r: TraceRecord): void {
    for (const l of this.traceListeners) l(r);
  }

  /** Steps the governor (and churn) until no input is left. */
  private settle(): void {
    if (this.critical || this.stopped) return;
    const t = this.clock.now();
    // No input and no wake-up due: the last step left nothing ready before its wake-up time.
    if (this.inbox.length === 0 && t < this.stepDueAt) return;
    // A live view of the metrics (nothing records a header while the governor steps), made once
    // per fetch mode: it reads the metrics as they are whenever it is asked.
    const mode = this.fetchMode();
    let metrics = this.scores.get(mode);
    if (!metrics) {
      metrics = metricScores(this.metrics, mode);
      this.scores.set(mode, metrics);
    }
    this.settling = true;
    try {
      for (let round = 0; round < 10_000; round++) {
        const res = step(this.state, this.inbox, t, this.rng, {
          policy: this.policy,
          metrics,
          maxDecisions: this.maxDecisions,
          consume: true,
        });
        this.inbox = [];
        this.state = res.state;
        this.stepCount++;
        if (res.critical) {
          // The node would restart here; the driver stops and says so.
          this.critical = { ...res.critical, at: t };
          for (const d of res.decisions) for (const e of d.trace) this.emit({ at: t, source: 'governor', ...e });
          this.emit({ at: t, source: 'driver', type: 'CriticalError', detail: res.critical.kind });
          return;
        }
        if (this.lastInstant !== t) {
          this.lastInstant = t;
          this.decisionsAtInstant = 0;
        }
        this.decisionsAtInstant += res.decisions.length;
        const n = this.decisionsAtInstant;
        if (n > this.maxDecisionsAtOneInstant) this.maxDecisionsAtOneInstant = n;
        this.decisionCount += res.decisions.length;
        if (res.livelock) throw new LivelockError(`governor livelock: more than ${n} decisions at t=${t} ms`);
        if (this.traceListeners.length > 0)
          for (const d of res.decisions) for (const e of d.trace) this.emit({ at: t, source: 'governor', ...e });
        if (this.invariants !== 'off') {
          const broken = checkInvariants(this.state, this.policy);
          if (broken.length > 0) {
            this.violations.push({ at: t, broken });
            if (this.invariants === 'throw') throw new Error(`invariant broken at t=${t} ms: ${broken.join('; ')}`);
          }
        }
        if (this.stepListeners.length > 0) {
          const e: StepEvent = { at: t, decisions: res.decisions, jobs: res.jobs };
          for (const l of this.stepListeners) l(e);
        }
        for (const job of res.jobs) this.jobs.perform(job);
        this.stepDueAt = res.wakeupAt ?? Number.POSITIVE_INFINITY;
        const w = res.wakeupAt;
        if (w !== undefined && !this.wakeups.has(w)) {
          this.wakeups.set(
            w,
            this.timerAt(w, () => {
              this.wakeups.delete(w);
              this.requestSettle();
            }),
          );
        }
        if (this.churn) this.runChurn(res.counters);
        if (this.inbox.length === 0) return;
      }
      throw new LivelockError(`driver livelock at t=${t} ms`);
    } finally {
      this.settling = false;
    }
  }

  /** The base targets: configured, or the sync targets in Genesis mode while the ledger state is too old. */
  private genesisSync(): boolean {
    return this.consensusMode === 'genesis' && this.judgement === 'tooOld';
  }

  /** Runs the churn governor; `published`: the counters of the current state, when the caller has them. */
  private runChurn(published?: Counters): void {
    if (this.critical || this.stopped) return;
    const base = this.genesisSync() ? this.syncTargets : this.configuredTargets;
    if (!base) return;
    const now = this.clock.now();
    const regime = this.regime();
    // Before its wake-up time, with the same base targets and regime as last time, the churn
    // governor has nothing to do between steps (waiting for an interval to end), nor during a
    // step while the counters are the same (no step can finish or time out): skip the call.
    const last = this.lastChurn;
    let c: Counters | undefined;
    if (last && now < last.wakeupAt && last.regime === regime && targetsEqual(last.base, base)) {
      if (this.churnState.phase !== 'step') return;
      c = published ?? counters(this.state);
      if (countersEqual(last.counters, c)) return;
    }
    c ??= published ?? counters(this.state);
    const r = churnStep(
      this.churnState,
      {
        now,
        counters: c,
        base,
        regime,
        fetchMode: this.fetchMode(),
        consensusMode: this.consensusMode,
        localRootHotTarget: localRootHotTarget(this.state.localRoots),
        ...(this.churnIntervalMs === undefined ? {} : { intervalMs: this.churnIntervalMs }),
      },
      this.churnRng,
    );
    this.churnState = r.state;
    this.lastChurn = { counters: c, base: { ...base }, regime, wakeupAt: r.wakeupAt };
    for (const c of r.trace) {
      for (const l of this.churnListeners) l(c);
      if (this.traceListeners.length > 0) {
        const rec: ChurnTraceRecord = {
          at: c.at,
          source: 'churn',
          type: c.ok ? c.action : (`${c.action}Timeout` as ChurnTraceRecord['type']),
          count: c.delta,
          detail: `targets ${JSON.stringify(c.targets)}`,
        };
        this.emit(rec);
      }
    }
    // In Genesis mode while too old, churn works on the sync targets.
    if (r.targets) this.push({ kind: this.genesisSync() ? 'syncTargets' : 'targets', targets: r.targets });
    if (this.churnWake !== r.wakeupAt) {
      // A superseded wake-up still runs churn once: it finds nothing to do.
      this.churnWake = r.wakeupAt;
      const timer = this.timerAt(r.wakeupAt, () => {
        this.churnTimers.delete(timer);
        this.runChurn();
      });
      this.churnTimers.add(timer);
    }
  }
}

function countersEqual(a: Counters, b: Counters): boolean {
  return (
    a.known === b.known &&
    a.established === b.established &&
    a.active === b.active &&
    a.knownBigLedger === b.knownBigLedger &&
    a.establishedBigLedger === b.establishedBigLedger &&
    a.activeBigLedger === b.activeBigLedger &&
    a.root === b.root
  );
}
