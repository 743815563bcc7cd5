/**
 * A mock environment: a simulated network in simulated time that drives the governor's `step`
 * (and the churn governor) exactly as a real shell would, deterministic from a seed (the reference's
 * `MockEnvironment.hs`, architecture.md §1.6).
 *
 * Events live in a heap ordered by (time, sequence). All events at one instant are applied, then
 * the governor steps with the inputs they produced, its jobs are turned into future events
 * (connection outcomes after a latency, time-wait after closes, peer-share answers, root-peer
 * answers), the churn governor reads the new counters, and so on until nothing is left at that
 * instant. Peers have scripted or random connection outcomes, latencies, activation failures and
 * asynchronous demotions; peer sharing answers come from a graph.
 */

import { type CardanoStatus, type CriticalError, cardanoStatus } from './bootstrap.js';
import { type ChurnRegime, type ChurnState, type ChurnTrace, churnStep, initialChurnState } from './churn.js';
import { step } from './governor.js';
import { checkInvariants } from './invariants.js';
import { type LedgerPool, pickBigLedgerPeers, pickLedgerPeers } from './ledger-peers.js';
import {
  addFetchMetric,
  addHeaderMetric,
  emptyMetrics,
  type FetchMode,
  metricScores,
  notePeer,
  type PeerMetrics,
  upstreamyness,
} from './peer-metrics.js';
import { answerPeerShare, DEFAULT_POLICY, type GovernorPolicy, PEER_DEMOTION_TIMEOUT, stickySalt } from './policies.js';
import { createRng, type Rng } from './rng.js';
import {
  type Completion,
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
  type PeerOrigin,
  type PeerStatus,
  peerSource,
  type RootPeerResult,
  SYNC_DEFAULT_TARGETS,
  type Targets,
  type Temperature,
  type Time,
  temperature,
} from './types.js';

/** One simulated peer. */
export interface SimPeer {
  peer: Peer;
  /** Probability that a connection attempt succeeds (used when no script is given). */
  connectSuccess: number;
  /** Scripted connection outcomes, used in order and then repeated from the start. */
  connectScript?: boolean[] | undefined;
  /** One-way latency in seconds (connection set-up takes a few round trips). */
  latency: number;
  /** Probability that a warm->hot promotion fails. */
  activateFailure: number;
  /** Mean time (s) a hot connection lasts before an asynchronous demotion; undefined: forever. */
  hotLifetime?: number | undefined;
  /** Probability that an asynchronous demotion is an error (-> cooling -> cold) rather than a clean return (-> warm). */
  asyncErrorShare: number;
  /** The remote negotiates peer sharing. */
  sharing: boolean;
  /** Peers this one knows and may share. */
  neighbours: Peer[];
  /** Seconds after a block is forged that this peer delivers its header. */
  headerDelay: number;
}

export interface MockEnvConfig {
  seed: number;
  peers: SimPeer[];
  /** The node's configured targets (base targets for churn). */
  targets: Targets;
  localRoots?: LocalRootGroupConfig[];
  /** Topology public roots (answered only when ledger peers yield nothing). */
  publicRoots?: RootPeerResult[];
  /** Topology `bootstrapPeers`: the answer to root-peer requests in the sensitive state. */
  bootstrapPeers?: RootPeerResult[];
  /** `UseBootstrapPeers` (default: some bootstrap peers are configured). */
  useBootstrapPeers?: boolean;
  consensusMode?: ConsensusMode;
  /** Genesis sync targets (default `SYNC_DEFAULT_TARGETS`). */
  syncTargets?: Targets;
  /**
   * Consensus's ledger-state judgement over time (default: young enough throughout). While it is
   * too old, churn runs in a bulk-sync regime (Praos) or on the sync targets (Genesis).
   */
  judgementScript?: Array<{ at: Time; judgement: LedgerStateJudgement }>;
  /** Registry pools whose relays are peers of the network (ledger and big ledger peers). */
  ledgerPools?: LedgerPool<Peer>[];
  /** Use ledger peers (topology `useLedgerAfterSlot` >= 0). */
  useLedger?: boolean;
  /** Answer root-peer requests with ordinary ledger peers (default true; false: big ledger peers only). */
  ordinaryLedgerPeers?: boolean;
  /** Run the churn governor (otherwise the targets are installed once at time 0). */
  churn?: boolean;
  regime?: ChurnRegime;
  fetchMode?: FetchMode;
  policy?: GovernorPolicy;
  /** Mature inbound peers (address, remote sharing flag), reported at time 0. */
  inboundPeers?: Array<[Peer, boolean]>;
  /** Mean seconds between blocks (metrics). */
  blockInterval?: number;
  /** Connection-manager time-wait after a clean close. */
  timeWait?: number;
  /** Scripted changes. */
  targetScript?: Array<{ at: Time; targets: Targets }>;
  localRootScript?: Array<{ at: Time; groups: LocalRootGroupConfig[] }>;
  /**
   * Check the §2.8 invariants after every step: true throws on the first violation, 'collect' records
   * them in `violations`; off by default (the check walks the whole state, most of a step's cost).
   */
  checkInvariants?: boolean | 'collect';
  /** Keep the decision trace (memory grows with it). */
  keepTrace?: boolean;
  /** Stop with an error after this many decisions at one instant. */
  maxDecisionsPerInstant?: number;
}

export interface TraceRecord {
  at: Time;
  source: 'governor' | 'churn' | 'env';
  type: string;
  peers?: Peer[] | undefined;
  count?: number | undefined;
  detail?: string | undefined;
}

export interface PeerRow {
  peer: Peer;
  source: PeerOrigin;
  temperature: Temperature;
  failCount: number;
  upstreamness: number;
  /** When the peer entered its current temperature (simulated seconds). */
  since: Time;
}

export interface Snapshot {
  at: Time;
  counters: Counters;
  targets: Targets;
  peers: PeerRow[];
  /** Consensus mode, judgement, bootstrap sensitive state, association mode. */
  cardano: CardanoStatus;
}

interface SimEvent {
  at: Time;
  seq: number;
  run: () => void;
}

/** A binary min-heap of events by (time, sequence): deterministic tie-breaking. */
class EventHeap {
  private items: SimEvent[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): SimEvent | undefined {
    return this.items[0];
  }
  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  push(e: SimEvent): void {
    const h = this.items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as SimEvent, h[p] as SimEvent)) break;
      [h[i], h[p]] = [h[p] as SimEvent, h[i] as SimEvent];
      i = p;
    }
  }
  pop(): SimEvent | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as SimEvent, h[m] as SimEvent)) m = l;
        if (r < h.length && this.less(h[r] as SimEvent, h[m] as SimEvent)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as SimEvent, h[i] as SimEvent];
        i = m;
      }
    }
    return top;
  }
}

/** Exit-policy repromote delays after a clean return of a protocol (§3.4). */
const RETURN_DELAYS = [10, 10, 10, 120, 180];

export class MockEnvironment {
  readonly config: MockEnvConfig;
  readonly policy: GovernorPolicy;
  state: GovernorState;
  churnState: ChurnState;
  metrics: PeerMetrics;
  now: Time = 0;
  /** Decisions taken, with their time (when keepTrace). */
  readonly decisions: Decision[] = [];
  readonly trace: TraceRecord[] = [];
  readonly churnTrace: ChurnTrace[] = [];
  /** Every job the governor asked for, with the time. */
  readonly jobLog: Array<{ at: Time; job: Job }> = [];
  /** Every peer the environment ever announced (roots, ledger, peer sharing, inbound). */
  readonly announced = new Set<Peer>();
  /** Decisions per instant, maximum seen. */
  maxDecisionsAtOneInstant = 0;
  /** Total decisions. */
  decisionCount = 0;
  stepCount = 0;
  /** Invariant violations seen (when checkInvariants is off they are collected, not thrown). */
  readonly violations: Array<{ at: Time; broken: string[] }> = [];
  /** The governor reported a critical error (the node would restart): the simulation stopped there. */
  critical: (CriticalError & { at: Time }) | undefined;
  /** Observers called after every governor step. */
  readonly observers: Array<(env: MockEnvironment, decisions: Decision[]) => void> = [];

  private readonly rng: Rng;
  private readonly envRng: Rng;
  private readonly heap = new EventHeap();
  private seq = 0;
  private inbox: Input[] = [];
  private readonly peers = new Map<Peer, SimPeer>();
  private readonly connectAttempts = new Map<Peer, number>();
  /** The connection status the environment holds for each peer with a connection. */
  private readonly status = new Map<Peer, PeerStatus>();
  /** Bumped on every new connection, so stale events of an old connection are ignored. */
  private readonly generation = new Map<Peer, number>();
  private readonly inbound = new Set<Peer>();
  private readonly secret: number;
  private scheduledWakeups = new Set<Time>();
  /** When the governor must step again without new input (its last wake-up time). */
  private stepDueAt: Time = 0;
  private lastInstant: Time = -1;
  private decisionsAtInstant = 0;

  constructor(config: MockEnvConfig) {
    this.config = config;
    this.policy = config.policy ?? DEFAULT_POLICY;
    const root = createRng(config.seed);
    this.rng = root.split();
    this.envRng = root.split();
    this.secret = root.nextU32();
    this.state = initialState(0);
    this.churnState = initialChurnState();
    this.metrics = emptyMetrics();
    for (const p of config.peers) this.peers.set(p.peer, p);
    for (const [p] of config.inboundPeers ?? []) this.inbound.add(p);

    // Time 0: configuration, local roots, inbound peers; churn (or fixed targets).
    this.at(0, () => {
      this.inbox.push(
        { kind: 'consensusMode', mode: config.consensusMode ?? 'praos' },
        { kind: 'useLedgerPeers', enabled: config.useLedger !== false && (config.ledgerPools ?? []).length > 0 },
        { kind: 'useBootstrapPeers', enabled: this.useBootstrapPeers() },
        { kind: 'ledgerStateJudgement', judgement: this.judgement() },
      );
      if (config.syncTargets) this.inbox.push({ kind: 'syncTargets', targets: config.syncTargets });
      if (config.localRoots && config.localRoots.length > 0) {
        this.inbox.push({ kind: 'localRoots', groups: config.localRoots });
        for (const g of config.localRoots) for (const { peer } of g.peers) this.announced.add(peer);
      }
      if (config.inboundPeers && config.inboundPeers.length > 0) {
        this.inbox.push({ kind: 'inboundPeers', peers: config.inboundPeers });
        for (const [p] of config.inboundPeers) this.announced.add(p);
      }
      if (!config.churn) this.inbox.push({ kind: 'targets', targets: config.targets });
    });
    if (config.churn) this.at(0, () => this.runChurn());
    // With churn, a new configuration reaches the governor through the churn governor's base targets.
    for (const t of config.targetScript ?? [])
      this.at(t.at, () => (config.churn ? this.runChurn() : this.inbox.push({ kind: 'targets', targets: t.targets })));
    for (const j of config.judgementScript ?? [])
      if (j.at > 0)
        this.at(j.at, () => {
          this.inbox.push({ kind: 'ledgerStateJudgement', judgement: j.judgement });
          if (config.churn) this.runChurn();
        });
    for (const l of config.localRootScript ?? [])
      this.at(l.at, () => {
        this.inbox.push({ kind: 'localRoots', groups: l.groups });
        for (const g of l.groups) for (const { peer } of g.peers) this.announced.add(peer);
      });
    if ((config.blockInterval ?? 20) > 0) this.scheduleBlock(0);
  }

  /** The base targets: configured, or the last scripted ones; Genesis sync targets while too old. */
  private baseTargets(): Targets {
    if (this.genesisSync()) return this.config.syncTargets ?? SYNC_DEFAULT_TARGETS;
    let t = this.config.targets;
    for (const s of this.config.targetScript ?? []) if (s.at <= this.now) t = s.targets;
    return t;
  }

  private useBootstrapPeers(): boolean {
    return this.config.useBootstrapPeers ?? (this.config.bootstrapPeers ?? []).length > 0;
  }

  /** The scripted judgement at the current time. */
  judgement(): LedgerStateJudgement {
    let j: LedgerStateJudgement = 'youngEnough';
    for (const s of this.config.judgementScript ?? []) if (s.at <= this.now) j = s.judgement;
    return j;
  }

  private genesisSync(): boolean {
    return this.config.consensusMode === 'genesis' && this.judgement() === 'tooOld';
  }

  /** The churn regime: the configured one, or, with a judgement script, the one the judgement implies (§4.4). */
  regime(): ChurnRegime {
    if (this.config.regime) return this.config.regime;
    if (!this.config.judgementScript) return 'default';
    if (this.config.consensusMode === 'genesis' || this.judgement() === 'youngEnough') return 'default';
    return this.useBootstrapPeers() ? 'bootstrapPraosSync' : 'praosSync';
  }

  fetchMode(): FetchMode {
    if (this.config.fetchMode) return this.config.fetchMode;
    if (!this.config.judgementScript) return 'deadline';
    return this.regime() === 'default' ? 'deadline' : 'bulkSync';
  }

  private at(time: Time, run: () => void): void {
    this.heap.push({ at: Math.max(time, this.now), seq: this.seq++, run });
  }

  private note(type: string, peers?: Peer[], detail?: string): void {
    if (this.config.keepTrace !== false) this.trace.push({ at: this.now, source: 'env', type, peers, detail });
  }

  /**
   * Runs the simulation until `end` (inclusive of events at `end`). With `maxInstants`, stops after
   * that many simulated instants and returns false when `end` is not reached yet, so that a caller
   * can run a long simulation in slices (and stay interruptible) by calling it again.
   */
  runUntil(end: Time, maxInstants = Number.POSITIVE_INFINITY): boolean {
    for (let n = 0; ; n++) {
      if (this.critical) break;
      const next = this.heap.peek();
      if (!next || next.at > end) break;
      if (n >= maxInstants) return false;
      const t = next.at;
      this.now = t;
      while (this.heap.peek()?.at === t) this.heap.pop()?.run();
      this.settle(t);
    }
    this.now = Math.max(this.now, end);
    return true;
  }

  /** Steps the governor (and churn) at time t until no input is left. */
  private settle(t: Time): void {
    // An instant that brought no input (a block arriving, a superseded wake-up) cannot make a
    // decision ready: the last step left nothing ready before its wake-up time.
    if (this.inbox.length === 0 && t < this.stepDueAt) return;
    // A live view of the metrics: nothing records a header while the governor steps.
    const metrics = metricScores(this.metrics, this.fetchMode());
    for (let round = 0; round < 10_000; round++) {
      const res = step(this.state, this.inbox, t, this.rng, {
        policy: this.policy,
        metrics,
        maxDecisions: this.config.maxDecisionsPerInstant ?? 1000,
        consume: true,
      });
      this.inbox = [];
      this.state = res.state;
      this.stepCount++;
      if (res.critical) {
        // The node would restart here; the simulation stops and says so.
        this.critical = { ...res.critical, at: t };
        if (this.config.keepTrace !== false)
          for (const d of res.decisions) for (const e of d.trace) this.trace.push({ at: t, source: 'governor', ...e });
        return;
      }
      if (this.lastInstant !== t) {
        this.lastInstant = t;
        this.decisionsAtInstant = 0;
      }
      this.decisionsAtInstant += res.decisions.length;
      const n = this.decisionsAtInstant;
      this.maxDecisionsAtOneInstant = Math.max(this.maxDecisionsAtOneInstant, n);
      this.decisionCount += res.decisions.length;
      if (res.livelock) throw new Error(`governor livelock: more than ${n} decisions at t=${t}`);
      if (this.config.keepTrace !== false) {
        for (const d of res.decisions) {
          this.decisions.push(d);
          for (const e of d.trace) this.trace.push({ at: t, source: 'governor', ...e });
        }
      }
      if (this.config.checkInvariants) {
        const broken = checkInvariants(this.state, this.policy);
        if (broken.length > 0) {
          this.violations.push({ at: t, broken });
          if (this.config.checkInvariants === true) throw new Error(`invariant broken at t=${t}: ${broken.join('; ')}`);
        }
      }
      for (const o of this.observers) o(this, res.decisions);
      for (const job of res.jobs) this.perform(job);
      this.stepDueAt = res.wakeupAt ?? Number.POSITIVE_INFINITY;
      if (res.wakeupAt !== undefined && !this.scheduledWakeups.has(res.wakeupAt)) {
        const w = res.wakeupAt;
        this.scheduledWakeups.add(w);
        this.at(w, () => this.scheduledWakeups.delete(w));
      }
      if (this.config.churn) this.runChurn();
      if (this.inbox.length === 0) return;
    }
    throw new Error(`environment livelock at t=${t}`);
  }

  private churnWake: Time | undefined;

  private runChurn(): void {
    const r = churnStep(
      this.churnState,
      {
        now: this.now,
        counters: counters(this.state),
        base: this.baseTargets(),
        regime: this.regime(),
        fetchMode: this.fetchMode(),
        localRootHotTarget: localRootHotTarget(this.state.localRoots),
      },
      this.envRng,
    );
    this.churnState = r.state;
    for (const c of r.trace) {
      this.churnTrace.push(c);
      if (this.config.keepTrace !== false)
        this.trace.push({
          at: c.at,
          source: 'churn',
          type: c.ok ? c.action : `${c.action}Timeout`,
          count: c.delta,
          detail: `targets ${JSON.stringify(c.targets)}`,
        });
    }
    // In Genesis mode while too old, churn works on the sync targets.
    if (r.targets) this.inbox.push({ kind: this.genesisSync() ? 'syncTargets' : 'targets', targets: r.targets });
    if (this.churnWake !== r.wakeupAt) {
      this.churnWake = r.wakeupAt;
      this.at(r.wakeupAt, () => this.runChurn());
    }
  }

  // -------------------------------------------------------------------------------------------
  // The shell: performing jobs

  private complete(delay: number, completion: Completion, before?: () => void): void {
    this.at(this.now + delay, () => {
      before?.();
      this.inbox.push({ kind: 'completion', completion });
    });
  }

  private setStatus(peer: Peer, status: PeerStatus, repromoteDelay?: number): void {
    this.status.set(peer, status);
    this.inbox.push({ kind: 'peerStatus', peer, status, repromoteDelay });
  }

  private perform(job: Job): void {
    if (this.config.keepTrace !== false) this.jobLog.push({ at: this.now, job });
    switch (job.kind) {
      case 'rootPeers':
        this.rootPeers(job);
        break;
      case 'bigLedgerPeers':
        this.bigLedgerPeers(job);
        break;
      case 'peerShare':
        this.peerShare(job);
        break;
      case 'connect':
        this.connect(job);
        break;
      case 'activate':
        this.activate(job);
        break;
      case 'deactivate':
        this.deactivate(job);
        break;
      case 'close':
        this.close(job);
        break;
    }
  }

  private rootPeers(job: Extract<Job, { kind: 'rootPeers' }>): void {
    const pools = this.config.ledgerPools ?? [];
    let peers: RootPeerResult[] = [];
    let ttl = 5;
    if (job.bootstrap) {
      // The sensitive state: the configured bootstrap peers only, never advertised (§2.9, §6.4).
      peers = (this.config.bootstrapPeers ?? []).map((p) => ({ ...p, kind: 'bootstrap' as const, advertise: false }));
      for (const p of peers) this.announced.add(p.peer);
      this.complete(0.05, { kind: 'rootPeers', jobId: job.id, ok: true, peers, ttl: 900 });
      return;
    }
    if (this.config.useLedger !== false && this.config.ordinaryLedgerPeers !== false && pools.length > 0) {
      peers = pickLedgerPeers(pools, job.count, this.envRng).map((p) => ({
        peer: p.relay,
        kind: 'ledger' as const,
        advertise: false,
      }));
    }
    if (peers.length === 0) {
      // Only when ledger peers yield nothing are the topology public roots used (§6.4).
      peers = this.config.publicRoots ?? [];
      ttl = 900;
    }
    for (const p of peers) this.announced.add(p.peer);
    this.complete(0.05, { kind: 'rootPeers', jobId: job.id, ok: true, peers, ttl });
  }

  private bigLedgerPeers(job: Extract<Job, { kind: 'bigLedgerPeers' }>): void {
    const pools = this.config.useLedger === false ? [] : (this.config.ledgerPools ?? []);
    const peers = pickBigLedgerPeers(pools, job.count, this.envRng).map((p) => p.relay);
    for (const p of peers) this.announced.add(p);
    this.complete(0.05, { kind: 'bigLedgerPeers', jobId: job.id, ok: true, peers, ttl: 5 });
  }

  private peerShare(job: Extract<Job, { kind: 'peerShare' }>): void {
    const salt = stickySalt(this.now, this.secret);
    const answers = job.peers.map((peer) => {
      const spec = this.peers.get(peer);
      const alive = this.status.get(peer) === 'warm' || this.status.get(peer) === 'hot';
      const delay = spec ? 2 * spec.latency + this.envRng.uniform(0, 1) * (spec.latency > 1 ? 12 : 1) : 1;
      const ok = !!spec && spec.sharing && alive && delay <= this.policy.peerShareOverallTimeout;
      const peers = ok && spec ? answerPeerShare(spec.neighbours, job.amount, salt) : [];
      return { peer, ok, peers, delay };
    });
    const fast = answers.filter((a) => a.delay <= this.policy.peerShareBatchWaitTime);
    const slow = answers.filter((a) => a.delay > this.policy.peerShareBatchWaitTime);
    const strip = (xs: typeof answers) => xs.map(({ peer, ok, peers }) => ({ peer, ok, peers }));
    const announce = (xs: typeof answers) => {
      for (const a of xs) for (const p of a.peers) this.announced.add(p);
    };
    if (slow.length === 0) {
      const at = Math.max(0.01, ...fast.map((a) => a.delay));
      this.complete(at, { kind: 'peerShare', jobId: job.id, results: strip(fast), final: true }, () => announce(fast));
      return;
    }
    if (fast.length > 0)
      this.complete(
        this.policy.peerShareBatchWaitTime,
        { kind: 'peerShare', jobId: job.id, results: strip(fast), final: false },
        () => announce(fast),
      );
    const at = Math.min(this.policy.peerShareOverallTimeout, Math.max(...slow.map((a) => a.delay)));
    this.complete(at, { kind: 'peerShare', jobId: job.id, results: strip(slow), final: true }, () => announce(slow));
  }

  private connect(job: Extract<Job, { kind: 'connect' }>): void {
    const spec = this.peers.get(job.peer);
    if (!spec) {
      this.complete(10, { kind: 'connect', jobId: job.id, peer: job.peer, ok: false, error: 'CONNECT_TIMEOUT' });
      return;
    }
    if (job.behindFirewall && !this.inbound.has(job.peer)) {
      this.complete(0.01, {
        kind: 'connect',
        jobId: job.id,
        peer: job.peer,
        ok: false,
        error: 'behind firewall: no inbound connection to reuse',
      });
      return;
    }
    const n = this.connectAttempts.get(job.peer) ?? 0;
    this.connectAttempts.set(job.peer, n + 1);
    const script = spec.connectScript;
    const ok =
      script && script.length > 0 ? (script[n % script.length] as boolean) : this.envRng.chance(spec.connectSuccess);
    const delay = 3 * spec.latency;
    if (!ok) {
      this.complete(delay, { kind: 'connect', jobId: job.id, peer: job.peer, ok: false, error: 'CONNECT_REFUSED' });
      return;
    }
    this.complete(delay, { kind: 'connect', jobId: job.id, peer: job.peer, ok: true, sharing: spec.sharing }, () => {
      this.generation.set(job.peer, (this.generation.get(job.peer) ?? 0) + 1);
      this.setStatus(job.peer, 'warm');
    });
  }

  private activate(job: Extract<Job, { kind: 'activate' }>): void {
    const spec = this.peers.get(job.peer);
    const gen = this.generation.get(job.peer);
    const fails = !spec || this.envRng.chance(spec.activateFailure);
    const latency = spec?.latency ?? 0.1;
    if (fails) {
      // The connection errors: cooling now, cold shortly after (no time-wait after errors); the
      // failure is reported after the job's 1 s pause.
      this.at(this.now + latency, () => {
        if (this.generation.get(job.peer) !== gen || this.status.get(job.peer) !== 'warm') return;
        this.setStatus(job.peer, 'cooling');
        this.at(this.now + 0.5, () => {
          if (this.generation.get(job.peer) === gen) this.setStatus(job.peer, 'cold');
        });
      });
      this.complete(latency + 1, {
        kind: 'activate',
        jobId: job.id,
        peer: job.peer,
        ok: false,
        error: 'activation failed',
      });
      return;
    }
    this.at(this.now + latency, () => {
      const live = this.generation.get(job.peer) === gen && this.status.get(job.peer) === 'warm';
      if (live) this.setStatus(job.peer, 'hot');
      this.inbox.push({
        kind: 'completion',
        completion: live
          ? { kind: 'activate', jobId: job.id, peer: job.peer, ok: true }
          : { kind: 'activate', jobId: job.id, peer: job.peer, ok: false, error: 'connection gone' },
      });
      if (live && spec?.hotLifetime !== undefined) this.scheduleAsyncDemotion(job.peer, spec, gen ?? 0);
    });
  }

  private scheduleAsyncDemotion(peer: Peer, spec: SimPeer, gen: number): void {
    const after = -Math.log(1 - this.envRng.next()) * (spec.hotLifetime ?? 1);
    this.at(this.now + after, () => {
      if (this.generation.get(peer) !== gen || this.status.get(peer) !== 'hot') return;
      if (this.envRng.chance(spec.asyncErrorShare)) {
        this.note('AsyncError', [peer]);
        this.setStatus(peer, 'cooling');
        this.at(this.now + 0.5, () => {
          if (this.generation.get(peer) === gen) this.setStatus(peer, 'cold', this.policy.errorDelay);
        });
      } else {
        const delay = RETURN_DELAYS[this.envRng.int(RETURN_DELAYS.length)] as number;
        this.note('AsyncReturn', [peer], `repromote delay ${delay}s`);
        this.setStatus(peer, 'warm', delay);
      }
    });
  }

  private deactivate(job: Extract<Job, { kind: 'deactivate' }>): void {
    const latency = this.peers.get(job.peer)?.latency ?? 0.1;
    const gen = this.generation.get(job.peer);
    this.at(this.now + latency, () => {
      const st = this.status.get(job.peer);
      if (this.generation.get(job.peer) === gen && (st === 'hot' || st === 'warm')) {
        if (st === 'hot') this.setStatus(job.peer, 'warm');
        this.inbox.push({
          kind: 'completion',
          completion: { kind: 'deactivate', jobId: job.id, peer: job.peer, ok: true },
        });
        return;
      }
      // The connection is going away: wait (<= 600 s) for it to be cold.
      this.waitCold(job.peer, 0, (cold) => ({
        kind: 'deactivate',
        jobId: job.id,
        peer: job.peer,
        ok: false,
        becameCold: cold,
      }));
    });
  }

  private waitCold(peer: Peer, waited: number, completion: (cold: boolean) => Completion): void {
    const st = this.status.get(peer);
    if (st === 'cold' || st === undefined) {
      this.inbox.push({ kind: 'completion', completion: completion(true) });
      return;
    }
    if (waited >= PEER_DEMOTION_TIMEOUT) {
      this.inbox.push({ kind: 'completion', completion: completion(false) });
      return;
    }
    this.at(this.now + 1, () => this.waitCold(peer, waited + 1, completion));
  }

  private close(job: Extract<Job, { kind: 'close' }>): void {
    const gen = this.generation.get(job.peer);
    const st = this.status.get(job.peer);
    if (st === 'cold' || st === undefined) {
      this.complete(0.01, { kind: 'close', jobId: job.id, peer: job.peer, becameCold: true });
      return;
    }
    this.setStatus(job.peer, 'cooling');
    const timeWait = this.config.timeWait ?? 60;
    this.at(this.now + timeWait, () => {
      if (this.generation.get(job.peer) === gen) this.setStatus(job.peer, 'cold');
      this.inbox.push({
        kind: 'completion',
        completion: { kind: 'close', jobId: job.id, peer: job.peer, becameCold: true },
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Blocks: hot peers deliver headers and blocks; the earliest wins the slot (peer metrics).

  private scheduleBlock(after: Time): void {
    const mean = this.config.blockInterval ?? 20;
    const gap = -Math.log(1 - this.envRng.next()) * mean;
    this.at(after + gap, () => {
      const slot = Math.floor(this.now);
      const m = this.metrics;
      // Only the earliest delivery of the slot stays on each board (the first of equal times, as
      // inserting them in turn would keep): the others only refresh the peers' join slots.
      let header: Peer | undefined;
      let headerAt = Number.POSITIVE_INFINITY;
      let fetch: Peer | undefined;
      let fetchAt = Number.POSITIVE_INFINITY;
      for (const p of this.state.active) {
        const spec = this.peers.get(p);
        if (!spec) continue;
        const arrival = this.now + spec.headerDelay * (0.8 + 0.4 * this.envRng.next());
        if (arrival < headerAt) {
          headerAt = arrival;
          header = p;
        }
        if (arrival + spec.latency < fetchAt) {
          fetchAt = arrival + spec.latency;
          fetch = p;
        }
        notePeer(m, slot, p);
      }
      if (header !== undefined) addHeaderMetric(m, slot, header, headerAt);
      if (fetch !== undefined) addFetchMetric(m, slot, fetch, 50_000, fetchAt);
      this.scheduleBlock(this.now);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Reports

  snapshot(): Snapshot {
    const up = upstreamyness(this.metrics);
    const peers: PeerRow[] = [];
    for (const [p, info] of this.state.known) {
      peers.push({
        peer: p,
        source: peerSource(this.state, p),
        temperature: temperature(this.state, p),
        failCount: info.failCount,
        upstreamness: up.get(p) ?? 0,
        since: this.state.since.get(p) ?? 0,
      });
    }
    const rank = { hot: 0, warm: 1, cold: 2 } as const;
    peers.sort(
      (a, b) =>
        rank[a.temperature] - rank[b.temperature] || b.upstreamness - a.upstreamness || (a.peer < b.peer ? -1 : 1),
    );
    return {
      at: this.now,
      counters: counters(this.state),
      targets: { ...this.state.targets },
      peers,
      cardano: cardanoStatus(this.state, this.policy),
    };
  }

  /** Whether every target is met (counters >= targets; root counted as well). */
  targetsMet(targets: Targets = this.config.targets): boolean {
    const c = counters(this.state);
    return (
      c.known >= targets.known &&
      c.established >= targets.established &&
      c.active >= targets.active &&
      c.knownBigLedger >= targets.knownBigLedger &&
      c.establishedBigLedger >= targets.establishedBigLedger &&
      c.activeBigLedger >= targets.activeBigLedger
    );
  }

  /** The environment's view of a peer's connection (undefined: no connection ever). */
  envStatus(peer: Peer): PeerStatus | undefined {
    return this.status.get(peer);
  }

  /** The next pending event time, if any. */
  nextEventAt(): Time | undefined {
    return this.heap.peek()?.at;
  }
}

// ---------------------------------------------------------------------------------------------
// Random environments (property tests, benchmarks)

export interface RandomEnvOptions {
  peers: number;
  /** Average number of peer-sharing neighbours. */
  degree?: number;
  localRootGroups?: number;
  publicRoots?: number;
  pools?: number;
  targets?: Targets;
  churn?: boolean;
  /** Share of peers that always fail to connect. */
  deadShare?: number;
}

/** A random network: addresses 10.x.y.z:3001, random latencies, failures and a sharing graph. */
export function randomEnvironment(seed: number, o: RandomEnvOptions): MockEnvConfig {
  const rng = createRng(seed ^ 0x5bd1e995);
  const addr = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:3001`;
  const peers: SimPeer[] = [];
  const degree = o.degree ?? 8;
  for (let i = 0; i < o.peers; i++) {
    const dead = rng.chance(o.deadShare ?? 0.05);
    const neighbours: Peer[] = [];
    for (let k = 0; k < degree; k++) neighbours.push(addr(rng.int(o.peers)));
    peers.push({
      peer: addr(i),
      connectSuccess: dead ? 0 : 0.7 + 0.3 * rng.next(),
      latency: 0.01 + 0.3 * rng.next(),
      activateFailure: 0.05 * rng.next(),
      hotLifetime: rng.chance(0.5) ? 600 + 3600 * rng.next() : undefined,
      asyncErrorShare: 0.3,
      sharing: rng.chance(0.8),
      neighbours: [...new Set(neighbours)],
      headerDelay: 0.2 + 2 * rng.next(),
    });
  }
  let next = 0;
  const take = () => addr(next++ % Math.max(1, o.peers));
  const localRoots: LocalRootGroupConfig[] = [];
  for (let g = 0; g < (o.localRootGroups ?? 0); g++) {
    const size = 1 + rng.int(3);
    const members = Array.from({ length: size }, () => ({ peer: take() }));
    const warm = 1 + rng.int(size);
    localRoots.push({ hotValency: 1 + rng.int(warm), warmValency: warm, peers: members });
  }
  const publicRoots: RootPeerResult[] = Array.from({ length: o.publicRoots ?? 0 }, () => ({
    peer: take(),
    kind: 'public-root' as const,
    advertise: rng.chance(0.5),
  }));
  const raw = Array.from({ length: o.pools ?? 0 }, () => rng.next() ** 3);
  const total = raw.reduce((a, b) => a + b, 0) || 1;
  // relative stakes (they sum to 1, as the ledger's do)
  const ledgerPools: LedgerPool<Peer>[] = raw.map((w, i) => ({ id: `pool${i}`, stake: w / total, relays: [take()] }));
  return {
    seed,
    peers,
    targets: o.targets ?? {
      root: 10,
      known: 60,
      established: 20,
      active: 8,
      knownBigLedger: 8,
      establishedBigLedger: 5,
      activeBigLedger: 2,
    },
    localRoots,
    publicRoots,
    ledgerPools,
    useLedger: (o.pools ?? 0) > 0,
    churn: o.churn ?? false,
  };
}
