/**
 * One node of the `node` policy: the governor core's churn and peer metrics, driven round by round
 * (docs/simulation.md "What runs the policy").
 *
 * Per node the simulator keeps what the governor's decisions read (known, established and hot peers
 * in the governor's insertion order, the tepid flags, the header board of `src/governor`'s peer
 * metrics) and runs the governor's own churn state machine (`churnStep`: 12 steps, 20 % per cycle,
 * 3300 s + U(0, 600 s) between cycles). When a churn step changes a target, the decision the
 * governor takes for it is made by the governor's own pick policy, on the candidates the governor
 * would collect, with the node's generator:
 *
 * | target change | governor decision (`src/governor/decisions`) | policy called here |
 * |---|---|---|
 * | active down | `DemoteHotPeers` (active-peers.ts) | `pickHotToDemote` with `metricScores` (upstreamyness) |
 * | active up | `PromoteWarmPeers` | `pickUniform` over warm peers in established order |
 * | established down | `DemoteWarmPeers` (established-peers.ts) | `pickWarmToDemote` (tepid first) |
 * | established up | `PromoteColdPeers` | `pickUniform` over cold known peers in known order |
 * | known down | `ForgetColdPeers` (known-peers.ts) | `pickColdToForget` |
 * | known up | root-peer and peer-share requests | the world answers: uniform random other nodes |
 *
 * Jobs complete at once and never fail (connections are not modelled), so a step's condition holds
 * as soon as the decision is applied. test/simulation/divergence.test.ts replays a node's hot-peer
 * churn through the governor's `step()` and requires the same peers to move.
 */
import { type ChurnState, churnStep, initialChurnState } from '../governor/churn.js';
import {
  addHeaderMetric,
  addHeaderRun,
  emptyMetrics,
  type MetricScores,
  metricScores,
  notePeer,
  type PeerMetrics,
} from '../governor/peer-metrics.js';
import {
  type KnownPeerFlags,
  pickColdToForget,
  pickHotToDemote,
  pickUniform,
  pickWarmToDemote,
} from '../governor/policies.js';
import type { Rng } from '../governor/rng.js';
import type { Counters, KnownPeerInfo, Peer, Targets, Time } from '../governor/types.js';

type Flags = Pick<KnownPeerInfo, 'tepid' | 'failCount'>;
const TEPID: Readonly<Flags> = Object.freeze({ tepid: true, failCount: 0 });

/** What changed in one churn cycle of one node (for tests and reports). */
export interface HotChange {
  node: number;
  at: Time;
  before: readonly Peer[];
  after: readonly Peer[];
  demoted: readonly Peer[];
  promoted: readonly Peer[];
  /** The targets in force after every step of the cycle: none may be exceeded by the counters. */
  maxOverTarget: number;
}

/** What the node's hot-peer decisions saw, for the divergence test. */
export interface HotDecisionRecord {
  node: number;
  at: Time;
  /** The generator's state just before the decision. */
  rngState: [number, number, number, number];
  known: Peer[];
  established: Peer[];
  hot: Peer[];
  /** Upstreamyness and join slots at the time (copies). */
  scores: Map<Peer, number>;
  joined: Map<Peer, number>;
  tepid: Peer[];
  targets: Targets;
  kind: 'demote' | 'promote';
  picked: Peer[];
}

export interface ChurnWorld {
  /** New known peers for `node` (the world's answer to root-peer and peer-share requests). */
  refill(node: number, exclude: ReadonlySet<Peer>, count: number): Peer[];
  onDecision?: ((r: HotDecisionRecord) => void) | undefined;
}

export class ChurningNode {
  known: Peer[];
  established: Peer[];
  hot: Peer[];
  /** Known peers whose `tepid` flag is set (demoted from hot, not reconnected since). */
  readonly flags = new Map<Peer, Readonly<Flags>>();
  readonly metrics: PeerMetrics = emptyMetrics();
  churn: ChurnState = initialChurnState();
  targets: Targets;
  /** Cycles completed. */
  cycles = 0;

  constructor(
    readonly id: number,
    readonly base: Targets,
    readonly rng: Rng,
    known: readonly Peer[],
    established: readonly Peer[],
    hot: readonly Peer[],
  ) {
    this.known = [...known];
    this.established = [...established];
    this.hot = [...hot];
    this.targets = { ...base };
  }

  counters(): Counters {
    return {
      known: this.known.length,
      established: this.established.length,
      active: this.hot.length,
      knownBigLedger: 0,
      establishedBigLedger: 0,
      activeBigLedger: 0,
      // Known peers are one pool here (root and shared peers are not told apart, docs/simulation.md).
      root: Math.min(this.known.length, this.base.root),
    };
  }

  /** A header for `slot` from hot peer `winner` at `time` (the earliest), and the other hot peers' deliveries. */
  recordHeader(slot: number, winner: Peer, time: Time): void {
    addHeaderMetric(this.metrics, slot, winner, time);
  }

  noteDelivery(slot: number, peer: Peer): void {
    notePeer(this.metrics, slot, peer);
  }

  /**
   * Blocks (ascending slots) in which the first `upstreams` hot peers (the links of the diffusion
   * graph) all delivered the header, `hot[winners[j]]` first at `times[j]`: the same record as
   * `recordHeader` and `noteDelivery` block by block (`addHeaderRun`).
   */
  recordRun(
    upstreams: number,
    slots: ArrayLike<number>,
    winners: ArrayLike<number>,
    times: ArrayLike<Time>,
    length: number,
  ): void {
    const peers = this.hot.length > upstreams ? this.hot.slice(0, upstreams) : this.hot;
    addHeaderRun(this.metrics, peers, slots, winners, times, length);
  }

  /**
   * Runs the churn governor at `now` and the governor's decisions for every target it changes,
   * until the churn waits (for its interval or a step's timeout). Returns when to call again and,
   * when the hot set changed, what changed.
   */
  runChurn(now: Time, world: ChurnWorld): { wakeupAt: Time; change: HotChange | undefined } {
    const before = [...this.hot];
    const demoted: Peer[] = [];
    const promoted: Peer[] = [];
    let maxOver = 0;
    let wakeupAt = now;
    let cycled = false;
    for (let guard = 0; guard < 200; guard++) {
      const r = churnStep(this.churn, { now, counters: this.counters(), base: this.base }, this.rng);
      this.churn = r.state;
      if (r.trace.some((t) => t.action === 'CycleDone')) cycled = true;
      wakeupAt = r.wakeupAt;
      if (!r.targets) break;
      this.targets = r.targets;
      this.apply(now, world, demoted, promoted);
      const c = this.counters();
      maxOver = Math.max(
        maxOver,
        c.active - this.targets.active,
        c.established - this.targets.established,
        c.known - this.targets.known,
      );
    }
    if (cycled) this.cycles++;
    const changed = demoted.length > 0 || promoted.length > 0;
    return {
      wakeupAt,
      change: changed
        ? { node: this.id, at: now, before, after: [...this.hot], demoted, promoted, maxOverTarget: maxOver }
        : undefined,
    };
  }

  /** The governor's decisions for the targets in force, in its priority order (known, established, active). */
  private apply(now: Time, world: ChurnWorld, demoted: Peer[], promoted: Peer[]): void {
    const t = this.targets;
    // Known peers above target: forget cold ones (failure-biased; no failures here).
    if (this.known.length > t.known) {
      const est = new Set(this.established);
      const candidates = this.known.filter((p) => !est.has(p));
      const n = Math.min(this.known.length - t.known, candidates.length);
      if (n > 0) {
        const gone = new Set(pickColdToForget(this.flagView(), candidates, n, this.rng));
        this.known = this.known.filter((p) => !gone.has(p));
        for (const p of gone) this.flags.delete(p);
      }
    } else if (this.known.length < t.known) {
      const fresh = world.refill(this.id, new Set(this.known), t.known - this.known.length);
      this.known.push(...fresh);
    }
    // Established peers: close warm ones (tepid first) or connect cold ones.
    const hotSet = new Set(this.hot);
    if (this.established.length > t.established) {
      const candidates = this.established.filter((p) => !hotSet.has(p));
      const n = Math.min(this.established.length - t.established, this.established.length - this.hot.length);
      if (n > 0 && candidates.length > 0) {
        const closed = new Set(pickWarmToDemote(this.flagView(), candidates, n, this.rng));
        this.established = this.established.filter((p) => !closed.has(p));
      }
    } else if (this.established.length < t.established) {
      const est = new Set(this.established);
      const candidates = this.known.filter((p) => !est.has(p));
      const n = t.established - this.established.length;
      if (candidates.length > 0) {
        for (const p of pickUniform(candidates, n, this.rng)) {
          this.established.push(p);
          this.flags.delete(p); // a successful connection clears `tepid`
        }
      }
    }
    // Active peers: demote by upstreamyness, or promote warm peers uniformly.
    if (this.hot.length > t.active) {
      const n = this.hot.length - t.active;
      const scores = metricScores(this.metrics);
      this.record(
        world,
        now,
        'demote',
        scores,
        () => pickHotToDemote([...this.hot], n, this.rng, scores),
        (picked) => {
          const gone = new Set(picked);
          this.hot = this.hot.filter((p) => !gone.has(p));
          for (const p of picked) this.flags.set(p, TEPID);
          demoted.push(...picked);
        },
      );
    } else if (this.hot.length < t.active) {
      const candidates = this.established.filter((p) => !hotSet.has(p));
      const n = t.active - this.hot.length;
      if (candidates.length > 0) {
        this.record(
          world,
          now,
          'promote',
          undefined,
          () => pickUniform(candidates, n, this.rng),
          (picked) => {
            this.hot.push(...picked);
            promoted.push(...picked);
          },
        );
      }
    }
  }

  private record(
    world: ChurnWorld,
    now: Time,
    kind: 'demote' | 'promote',
    scores: MetricScores | undefined,
    decide: () => Peer[],
    commit: (picked: Peer[]) => void,
  ): void {
    const observe = world.onDecision;
    const snapshot = observe
      ? {
          node: this.id,
          at: now,
          rngState: this.rng.state(),
          known: [...this.known],
          established: [...this.established],
          hot: [...this.hot],
          scores: new Map(
            [...this.hot].flatMap((p) => {
              const s = (scores ?? metricScores(this.metrics)).score.get(p);
              return s === undefined ? [] : [[p, s] as [Peer, number]];
            }),
          ),
          joined: new Map(
            [...this.hot].flatMap((p) => {
              const j = (scores ?? metricScores(this.metrics)).joined.get(p);
              return j === undefined ? [] : [[p, j] as [Peer, number]];
            }),
          ),
          tepid: [...this.flags.keys()],
          targets: { ...this.targets },
          kind,
        }
      : undefined;
    const picked = decide();
    if (observe && snapshot) observe({ ...snapshot, picked: [...picked] });
    commit(picked);
  }

  private flagView(): KnownPeerFlags {
    return { known: this.flags };
  }
}
