/**
 * One node's governor, driven by the governor driver (src/driver) against a scripted world
 * (world.ts) on the event kernel (scheduler.ts), deterministic from a seed: what `spo governor
 * dry-run` runs and what the governor's property tests drive. Scripts change the targets, the local
 * roots and the ledger-state judgement over time.
 *
 * Times are milliseconds of virtual time.
 */
import type { StepEvent } from '../driver/loop.js';
import { GovernorDriver } from '../driver/loop.js';
import { LocalRootsProvider, PeerNames, type RootPeerResolver } from '../driver/root-peers.js';
import type { TraceRecord } from '../driver/trace.js';
import type { CardanoStatus, CriticalError } from '../governor/bootstrap.js';
import type { ChurnRegime, ChurnState, ChurnTrace } from '../governor/churn.js';
import type { LedgerPool } from '../governor/ledger-peers.js';
import { type FetchMode, type PeerMetrics, upstreamyness } from '../governor/peer-metrics.js';
import { DEFAULT_POLICY, type GovernorPolicy } from '../governor/policies.js';
import { createRng, type Rng } from '../governor/rng.js';
import { failCountAt } from '../governor/state.js';
import {
  type ConsensusMode,
  type Counters,
  counters,
  type Decision,
  type GovernorState,
  type Job,
  type LedgerStateJudgement,
  type LocalRootGroupConfig,
  type Peer,
  type PeerOrigin,
  type PeerStatus,
  peerSource,
  type RootPeerResult,
  type Targets,
  type Temperature,
  temperature,
} from '../governor/types.js';
import type { Millis } from '../lib/clock.js';
import { FakeResolver } from './fake-resolver.js';
import { Scheduler } from './scheduler.js';
import { type SimPeer, SimWorld } from './world.js';

export interface SimNodeConfig {
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
  judgementScript?: Array<{ at: Millis; judgement: LedgerStateJudgement }>;
  /** Registry pools whose relays are peers of the network (ledger and big ledger peers). */
  ledgerPools?: LedgerPool<Peer>[];
  /** Use ledger peers (topology `useLedgerAfterSlot` >= 0). */
  useLedger?: boolean;
  /** Answer root-peer requests with ordinary ledger peers (default true; false: big ledger peers only). */
  ordinaryLedgerPeers?: boolean;
  /** Run the churn governor (otherwise the targets are installed once at time 0). */
  churn?: boolean;
  /** Testnets only: churn cycles this far apart instead of ~1 h (the driver's `churnIntervalMs`). */
  churnIntervalMs?: Millis;
  regime?: ChurnRegime;
  fetchMode?: FetchMode;
  policy?: GovernorPolicy;
  /** Mature inbound peers (address, remote sharing flag), reported at time 0. */
  inboundPeers?: Array<[Peer, boolean]>;
  /** Mean time between blocks (ms; metrics; 0: none). */
  blockIntervalMs?: Millis;
  /** Connection-manager time-wait after a clean close (ms). */
  timeWaitMs?: Millis;
  /** Scripted changes. */
  targetScript?: Array<{ at: Millis; targets: Targets }>;
  localRootScript?: Array<{ at: Millis; groups: LocalRootGroupConfig[] }>;
  /**
   * Check the §2.8 invariants after every step: true throws on the first violation, 'collect' records
   * them in `violations`; off by default (the check walks the whole state, most of a step's cost).
   */
  checkInvariants?: boolean | 'collect';
  /** Keep the decision trace and job log (memory grows with them). */
  keepTrace?: boolean;
  /** Stop with an error after this many decisions at one instant. */
  maxDecisionsPerInstant?: number;
  /**
   * Name resolution for root and ledger peers given as names (default: a `FakeResolver`, whose
   * addresses the world's `peers` must include for those peers to answer). IP literals pass as
   * they are.
   */
  resolver?: RootPeerResolver;
}

export interface PeerRow {
  peer: Peer;
  /** The name (topology or registry) this address was resolved from, if it came from one. */
  name?: string | undefined;
  source: PeerOrigin;
  temperature: Temperature;
  failCount: number;
  upstreamness: number;
  /** When the peer entered its current temperature (ms of simulated time). */
  since: Millis;
}

export interface Snapshot {
  at: Millis;
  counters: Counters;
  targets: Targets;
  peers: PeerRow[];
  /** Consensus mode, judgement, bootstrap sensitive state, association mode. */
  cardano: CardanoStatus;
}

export class SimulatedNode {
  readonly config: SimNodeConfig;
  readonly policy: GovernorPolicy;
  readonly scheduler = new Scheduler(0);
  readonly driver: GovernorDriver;
  readonly world: SimWorld;
  /** Decisions taken, with their time (when keepTrace). */
  readonly decisions: Decision[] = [];
  readonly trace: TraceRecord[] = [];
  readonly churnTrace: ChurnTrace[] = [];
  /** Every job the governor asked for, with the time (when keepTrace). */
  readonly jobLog: Array<{ at: Millis; job: Job }> = [];
  /** Observers called after every governor step. */
  readonly observers: Array<(node: SimulatedNode, decisions: Decision[]) => void> = [];
  /** Which name each resolved address came from. */
  readonly names = new PeerNames();
  /** Keeps the local roots' names resolved (the node's local-roots provider). */
  readonly localRoots: LocalRootsProvider;

  constructor(config: SimNodeConfig) {
    this.config = config;
    this.policy = config.policy ?? DEFAULT_POLICY;
    const root = createRng(config.seed);
    const rng = root.split();
    // One generator for the world and the churn governor's fuzz (the dry run's runs depend on it).
    const envRng: Rng = root.split();
    const secret = root.nextU32();
    // Name resolution draws (SRV targets, one address per ledger name) from a generator of its own,
    // derived from the seed without drawing from the others: a run whose roots are all addresses
    // draws exactly what it drew before names were resolved.
    const resolution = {
      resolver: config.resolver ?? new FakeResolver(),
      rng: createRng(config.seed ^ 0x6a09e667),
      names: this.names,
    };
    const sched = this.scheduler;
    this.world = new SimWorld(
      sched,
      envRng,
      {
        peers: config.peers,
        publicRoots: config.publicRoots,
        bootstrapPeers: config.bootstrapPeers,
        ledgerPools: config.ledgerPools,
        useLedger: config.useLedger,
        ordinaryLedgerPeers: config.ordinaryLedgerPeers,
        inboundPeers: config.inboundPeers,
        blockIntervalMs: config.blockIntervalMs,
        timeWaitMs: config.timeWaitMs,
        resolution,
      },
      this.policy,
      secret,
    );
    const churn = config.churn === true;
    this.driver = new GovernorDriver({
      clock: sched,
      rng,
      churnRng: envRng,
      shell: this.world,
      policy: this.policy,
      churn,
      ...(config.churnIntervalMs === undefined ? {} : { churnIntervalMs: config.churnIntervalMs }),
      invariants: config.checkInvariants === true ? 'throw' : config.checkInvariants === 'collect' ? 'collect' : 'off',
      maxDecisionsPerInstant: config.maxDecisionsPerInstant ?? 1000,
    });
    // Without a judgement script the regime is the configured one (default), the fetch mode deadline.
    const fetchMode = config.fetchMode ?? (config.judgementScript ? undefined : 'deadline');
    this.driver.setChurnMode(config.regime, fetchMode);
    const keep = config.keepTrace !== false;
    if (keep) {
      this.driver.onTrace((r) => this.trace.push(r));
      this.world.onTrace((r) => this.trace.push(r));
    }
    this.driver.onChurn((c) => this.churnTrace.push(c));
    this.driver.onStep((e: StepEvent) => {
      if (keep) {
        for (const d of e.decisions) this.decisions.push(d);
        for (const job of e.jobs) this.jobLog.push({ at: e.at, job });
      }
      for (const o of this.observers) o(this, e.decisions);
    });

    // The governor gets the local roots with every name replaced by its addresses, again whenever
    // a name's answer changes (looked up again after its TTL).
    this.localRoots = new LocalRootsProvider(
      sched,
      resolution.resolver,
      resolution.rng,
      (groups) => {
        this.driver.setLocalRoots(groups);
        for (const g of groups) this.world.announce(g.peers.map((p) => p.peer));
      },
      this.names,
    );
    const judgementAt = (t: Millis): LedgerStateJudgement => {
      let j: LedgerStateJudgement = 'youngEnough';
      for (const s of config.judgementScript ?? []) if (s.at <= t) j = s.judgement;
      return j;
    };
    // Time 0: configuration, local roots, inbound peers; churn (or fixed targets).
    sched.at(0, () => {
      this.driver.configure({
        consensusMode: config.consensusMode ?? 'praos',
        useLedgerPeers: config.useLedger !== false && (config.ledgerPools ?? []).length > 0,
        useBootstrapPeers: config.useBootstrapPeers ?? (config.bootstrapPeers ?? []).length > 0,
      });
      this.driver.setJudgement(judgementAt(0));
      if (config.syncTargets) this.driver.setSyncTargets(config.syncTargets);
      if (config.localRoots && config.localRoots.length > 0) this.localRoots.configure(config.localRoots);
      if (config.inboundPeers && config.inboundPeers.length > 0) {
        this.driver.setInboundPeers(config.inboundPeers);
        this.world.announce(config.inboundPeers.map(([p]) => p));
      }
      if (!churn) this.driver.setTargets(config.targets);
    });
    if (churn) sched.at(0, () => this.driver.setTargets(config.targets));
    for (const t of config.targetScript ?? []) sched.at(t.at, () => this.driver.setTargets(t.targets));
    for (const j of config.judgementScript ?? [])
      if (j.at > 0) sched.at(j.at, () => this.driver.setJudgement(j.judgement));
    for (const l of config.localRootScript ?? []) sched.at(l.at, () => this.localRoots.configure(l.groups));
    const driver = this.driver;
    this.world.startBlocks({
      hotPeers: () => driver.state.active,
      recordHeader: (slot, peer, at) => driver.recordHeader(slot, peer, at),
      recordFetch: (slot, peer, bytes, at) => driver.recordFetch(slot, peer, bytes, at),
      notePeers: (slot, peers) => driver.notePeers(slot, peers),
    });
  }

  get state(): GovernorState {
    return this.driver.state;
  }
  get now(): Millis {
    return this.scheduler.now();
  }
  get churnState(): ChurnState {
    return this.driver.churnState;
  }
  get metrics(): PeerMetrics {
    return this.driver.metrics;
  }
  get decisionCount(): number {
    return this.driver.decisionCount;
  }
  get stepCount(): number {
    return this.driver.stepCount;
  }
  get maxDecisionsAtOneInstant(): number {
    return this.driver.maxDecisionsAtOneInstant;
  }
  get violations(): Array<{ at: Millis; broken: string[] }> {
    return this.driver.violations;
  }
  /** The governor reported a critical error (the node would restart): the simulation stopped there. */
  get critical(): (CriticalError & { at: Millis }) | undefined {
    return this.driver.critical;
  }
  /** Every peer the world ever announced (roots, ledger, peer sharing, inbound). */
  get announced(): ReadonlySet<Peer> {
    return this.world.announced;
  }

  regime(): ChurnRegime {
    return this.driver.regime();
  }
  fetchMode(): FetchMode {
    return this.driver.fetchMode();
  }

  /**
   * Runs the simulation until `end` (inclusive of events at `end`). With `maxInstants`, stops after
   * that many simulated instants and returns false when `end` is not reached yet, so that a caller
   * can run a long simulation in slices (and stay interruptible) by calling it again.
   */
  runUntil(end: Millis, maxInstants = Number.POSITIVE_INFINITY): boolean {
    const sched = this.scheduler;
    for (let n = 0; ; n++) {
      if (this.critical) break;
      const next = sched.next();
      if (next === undefined || next > end) break;
      if (n >= maxInstants) return false;
      sched.runInstant();
    }
    sched.advance(end);
    return true;
  }

  snapshot(): Snapshot {
    const s = this.state;
    const up = upstreamyness(this.metrics);
    const peers: PeerRow[] = [];
    for (const p of s.known.keys()) {
      const name = this.names.nameOf(p);
      peers.push({
        peer: p,
        ...(name === undefined ? {} : { name }),
        source: peerSource(s, p),
        temperature: temperature(s, p),
        failCount: failCountAt(s, p, this.scheduler.now()),
        upstreamness: up.get(p) ?? 0,
        since: s.since.get(p) ?? 0,
      });
    }
    const rank = { hot: 0, warm: 1, cold: 2 } as const;
    peers.sort(
      (a, b) =>
        rank[a.temperature] - rank[b.temperature] || b.upstreamness - a.upstreamness || (a.peer < b.peer ? -1 : 1),
    );
    return {
      at: this.now,
      counters: counters(s),
      targets: { ...s.targets },
      peers,
      cardano: this.driver.cardano(),
    };
  }

  /** Whether every target is met (counters >= targets). */
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

  /** The world's view of a peer's connection (undefined: no connection ever). */
  envStatus(peer: Peer): PeerStatus | undefined {
    return this.world.status(peer);
  }

  /** The next pending event time, if any. */
  nextEventAt(): Millis | undefined {
    return this.scheduler.next();
  }
}
