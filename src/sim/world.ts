/**
 * A scripted world of simulated peers on the `Scheduler`: the environment the dry run and the
 * governor tests drive the governor against (the reference's `MockEnvironment`, governor.md §12.1).
 * It implements the driver's shell (src/driver/actions.ts): connections with scripted or random
 * outcomes and latencies, activation failures, asynchronous demotions (clean returns with the exit
 * policy's repromote delays, errors through cooling), the connection manager's time-wait after a
 * close, peer-sharing answers from a graph, root and big ledger peers from registry pools; and it
 * delivers block headers from the hot peers to the driver's peer metrics. Every draw comes from one
 * seeded generator, so a run is reproducible.
 *
 * Results settle at scheduler events (`SyncResult`), so the driver reacts inside the event that
 * produced them. Times are milliseconds.
 */

import type { DriverShell, Established, RootPeersAnswer, StatusChange } from '../driver/actions.js';
import { BigLedgerPeers, type PeerNames, PublicRootPeers, type RootPeerResolver } from '../driver/root-peers.js';
import { SyncResult } from '../driver/sync-result.js';
import type { WorldTraceRecord } from '../driver/trace.js';
import { bigLedgerPools, type LedgerPool, pickFromBigLedgerPools, pickLedgerPeers } from '../governor/ledger-peers.js';
import { answerPeerShare, type GovernorPolicy, stickySalt } from '../governor/policies.js';
import type { Rng } from '../governor/rng.js';
import type { DiffusionMode, Peer, PeerStatus, RootPeerResult } from '../governor/types.js';
import type { Millis } from '../lib/clock.js';
import type { Scheduler } from './scheduler.js';

/** One simulated peer. */
export interface SimPeer {
  peer: Peer;
  /** Probability that a connection attempt succeeds (used when no script is given). */
  connectSuccess: number;
  /** Scripted connection outcomes, used in order and then repeated from the start. */
  connectScript?: boolean[] | undefined;
  /** One-way latency (ms; connection set-up takes a few round trips). */
  latencyMs: Millis;
  /** Probability that a warm->hot promotion fails. */
  activateFailure: number;
  /** Mean time (ms) a hot connection lasts before an asynchronous demotion; undefined: forever. */
  hotLifetimeMs?: Millis | undefined;
  /** Probability that an asynchronous demotion is an error (-> cooling -> cold) rather than a clean return (-> warm). */
  asyncErrorShare: number;
  /** The remote negotiates peer sharing. */
  sharing: boolean;
  /** Peers this one knows and may share. */
  neighbours: Peer[];
  /** How long after a block is forged this peer delivers its header (ms). */
  headerDelayMs: Millis;
}

export interface WorldConfig {
  peers: SimPeer[];
  /** Topology public roots (answered only when ledger peers yield nothing). */
  publicRoots?: RootPeerResult[] | undefined;
  /** Topology `bootstrapPeers`: the answer to root-peer requests in the sensitive state. */
  bootstrapPeers?: RootPeerResult[] | undefined;
  /** Registry pools whose relays are peers of the network (ledger and big ledger peers). */
  ledgerPools?: LedgerPool<Peer>[] | undefined;
  /** Use ledger peers (topology `useLedgerAfterSlot` >= 0). */
  useLedger?: boolean | undefined;
  /** Answer root-peer requests with ordinary ledger peers (default true; false: big ledger peers only). */
  ordinaryLedgerPeers?: boolean | undefined;
  /** Mature inbound peers: the only ones a `behindFirewall` local root can be reached through. */
  inboundPeers?: Array<[Peer, boolean]> | undefined;
  /** Mean time between blocks (ms; 0: no blocks). */
  blockIntervalMs?: Millis | undefined;
  /** Connection-manager time-wait after a clean close (ms). */
  timeWaitMs?: Millis | undefined;
  /**
   * Name resolution of root and ledger peers, as the node's providers do it (src/driver/root-peers.ts):
   * topology and registry names are answered with addresses, never passed on as peers. `rng` draws
   * the SRV targets and the one address per ledger name; `names` records where addresses came from.
   */
  resolution: { resolver: RootPeerResolver; rng: Rng; names: PeerNames };
}

/** Where blocks go: the hot peers deliver headers and blocks to the node's peer metrics. */
export interface BlockSink {
  hotPeers(): ReadonlySet<Peer>;
  recordHeader(slot: number, peer: Peer, at: Millis): void;
  recordFetch(slot: number, peer: Peer, bytes: number, at: Millis): void;
  /** Each of `peers` took part in `slot` (in this order). */
  notePeers(slot: number, peers: Iterable<Peer>): void;
}

/** Exit-policy repromote delays after a clean return of a protocol (§3.4). */
const RETURN_DELAYS_MS = [10_000, 10_000, 10_000, 120_000, 180_000];
/** An error takes a connection from cooling to cold this fast (no time-wait after errors). */
const ERROR_COOLING_MS = 500;
/** Latency assumed for a peer the world does not simulate. */
const UNKNOWN_LATENCY_MS = 100;
/** Dialling a peer the world does not simulate times out after this long. */
const UNKNOWN_CONNECT_TIMEOUT_MS = 10_000;
/** How fast the world answers a request that needs no network (root peers, a no-op close). */
const ROOT_ANSWER_MS = 50;
const LOCAL_ANSWER_MS = 10;

/** A failed operation: its message is the completion's error (no stack trace: the world fails often). */
const failure = (message: string) => ({ message });

export class SimWorld implements DriverShell {
  /** Every peer the world ever announced (roots, ledger, peer sharing, inbound). */
  readonly announced = new Set<Peer>();
  private readonly specs = new Map<Peer, SimPeer>();
  private readonly connectAttempts = new Map<Peer, number>();
  /** The connection status the world holds for each peer with a connection. */
  private readonly statusOf = new Map<Peer, PeerStatus>();
  /** Bumped on every new connection: events of an old connection are ignored, its reports are stale. */
  private readonly generation = new Map<Peer, number>();
  private readonly inbound = new Set<Peer>();
  private statusListener: ((c: StatusChange) => void) | undefined;
  private readonly traceListeners: Array<(r: WorldTraceRecord) => void> = [];
  /** Root and big ledger peers with their names resolved (the node's providers). */
  private readonly publicRootPeers: PublicRootPeers;
  private readonly bigLedgerPeerSource: BigLedgerPeers;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    private readonly config: WorldConfig,
    private readonly policy: GovernorPolicy,
    /** The secret of the sticky peer-sharing salt. */
    private readonly secret: number,
  ) {
    for (const p of config.peers) this.specs.set(p.peer, p);
    for (const [p] of config.inboundPeers ?? []) this.inbound.add(p);
    const { resolver, rng: resolverRng, names } = config.resolution;
    const pools = config.ledgerPools ?? [];
    const ledger = config.useLedger !== false;
    this.publicRootPeers = new PublicRootPeers(
      resolver,
      resolverRng,
      {
        publicRoots: config.publicRoots ?? [],
        bootstrapPeers: config.bootstrapPeers ?? [],
        // The relays are drawn from the world's generator, their names resolved with the resolver's.
        ledgerPeers: (count) =>
          ledger && config.ordinaryLedgerPeers !== false && pools.length > 0
            ? pickLedgerPeers(pools, count, this.rng).map((p) => p.relay)
            : [],
      },
      names,
    );
    this.bigLedgerPeerSource = new BigLedgerPeers(
      resolver,
      resolverRng,
      (count) => {
        // The big ledger pools are computed once (the stake distribution does not change in a run).
        this.bigPools ??= bigLedgerPools(ledger ? pools : []);
        return pickFromBigLedgerPools(this.bigPools, count, this.rng).map((p) => p.relay);
      },
      names,
    );
  }

  onTrace(listener: (r: WorldTraceRecord) => void): void {
    this.traceListeners.push(listener);
  }

  private note(type: WorldTraceRecord['type'], peers: Peer[], detail?: string): void {
    const r: WorldTraceRecord = { at: this.sched.now(), source: 'env', type, peers, ...(detail ? { detail } : {}) };
    for (const l of this.traceListeners) l(r);
  }

  /** Records peers as announced by a configuration (local roots, inbound peers). */
  announce(peers: Iterable<Peer>): void {
    for (const p of peers) this.announced.add(p);
  }

  private after<T>(delay: Millis, settle: (r: SyncResult<T>) => void): SyncResult<T> {
    const r = new SyncResult<T>();
    this.sched.at(this.sched.now() + delay, () => settle(r));
    return r;
  }

  private setStatus(peer: Peer, status: PeerStatus, repromoteDelayMs?: Millis): void {
    this.statusOf.set(peer, status);
    this.statusListener?.({ peer, connection: this.generation.get(peer) ?? 0, status, repromoteDelayMs });
  }

  // -------------------------------------------------------------------------------------------
  // PeerStateActions

  readonly peers = {
    establish: (peer: Peer, mode: { diffusionMode: DiffusionMode; behindFirewall: boolean }) =>
      this.establish(peer, mode.behindFirewall),
    activate: (peer: Peer) => this.activate(peer),
    deactivate: (peer: Peer) => this.deactivate(peer),
    close: (peer: Peer) => this.close(peer),
    status: (peer: Peer) => this.statusOf.get(peer),
    onStatus: (listener: (c: StatusChange) => void) => {
      this.statusListener = listener;
    },
  };

  /** The world's view of a peer's connection (undefined: no connection ever). */
  status(peer: Peer): PeerStatus | undefined {
    return this.statusOf.get(peer);
  }

  private establish(peer: Peer, behindFirewall: boolean): SyncResult<Established> {
    const spec = this.specs.get(peer);
    if (!spec) return this.after(UNKNOWN_CONNECT_TIMEOUT_MS, (r) => r.reject(failure('CONNECT_TIMEOUT')));
    if (behindFirewall && !this.inbound.has(peer))
      return this.after(LOCAL_ANSWER_MS, (r) => r.reject(failure('behind firewall: no inbound connection to reuse')));
    const n = this.connectAttempts.get(peer) ?? 0;
    this.connectAttempts.set(peer, n + 1);
    const script = spec.connectScript;
    const ok =
      script && script.length > 0 ? (script[n % script.length] as boolean) : this.rng.chance(spec.connectSuccess);
    const delay = 3 * spec.latencyMs;
    if (!ok) return this.after(delay, (r) => r.reject(failure('CONNECT_REFUSED')));
    return this.after(delay, (r) => {
      const gen = (this.generation.get(peer) ?? 0) + 1;
      this.generation.set(peer, gen);
      this.setStatus(peer, 'warm');
      r.resolve({ connection: gen, sharing: spec.sharing });
    });
  }

  private activate(peer: Peer): SyncResult<void> {
    const spec = this.specs.get(peer);
    const gen = this.generation.get(peer);
    const fails = !spec || this.rng.chance(spec.activateFailure);
    const latency = spec?.latencyMs ?? UNKNOWN_LATENCY_MS;
    if (fails) {
      // The connection errors: cooling now, cold shortly after (no time-wait after errors).
      return this.after(latency, (r) => {
        if (this.generation.get(peer) === gen && this.statusOf.get(peer) === 'warm') {
          this.setStatus(peer, 'cooling');
          this.sched.at(this.sched.now() + ERROR_COOLING_MS, () => {
            if (this.generation.get(peer) === gen) this.setStatus(peer, 'cold');
          });
        }
        r.reject(failure('activation failed'));
      });
    }
    return this.after(latency, (r) => {
      const live = this.generation.get(peer) === gen && this.statusOf.get(peer) === 'warm';
      if (!live) {
        r.reject(failure('connection gone'));
        return;
      }
      this.setStatus(peer, 'hot');
      r.resolve();
      if (spec?.hotLifetimeMs !== undefined) this.scheduleAsyncDemotion(peer, spec, gen ?? 0);
    });
  }

  private scheduleAsyncDemotion(peer: Peer, spec: SimPeer, gen: number): void {
    const after = -Math.log(1 - this.rng.next()) * (spec.hotLifetimeMs ?? 1);
    this.sched.at(this.sched.now() + after, () => {
      if (this.generation.get(peer) !== gen || this.statusOf.get(peer) !== 'hot') return;
      if (this.rng.chance(spec.asyncErrorShare)) {
        this.note('AsyncError', [peer]);
        this.setStatus(peer, 'cooling');
        this.sched.at(this.sched.now() + ERROR_COOLING_MS, () => {
          if (this.generation.get(peer) === gen) this.setStatus(peer, 'cold', this.policy.errorDelayMs);
        });
      } else {
        const delay = RETURN_DELAYS_MS[this.rng.int(RETURN_DELAYS_MS.length)] as number;
        this.note('AsyncReturn', [peer], `repromote delay ${delay / 1000}s`);
        this.setStatus(peer, 'warm', delay);
      }
    });
  }

  private deactivate(peer: Peer): SyncResult<void> {
    const latency = this.specs.get(peer)?.latencyMs ?? UNKNOWN_LATENCY_MS;
    const gen = this.generation.get(peer);
    return this.after(latency, (r) => {
      const st = this.statusOf.get(peer);
      if (this.generation.get(peer) === gen && (st === 'hot' || st === 'warm')) {
        if (st === 'hot') this.setStatus(peer, 'warm');
        r.resolve();
        return;
      }
      r.reject(failure('connection going away'));
    });
  }

  private close(peer: Peer): SyncResult<void> {
    const gen = this.generation.get(peer);
    const st = this.statusOf.get(peer);
    if (st === 'cold' || st === undefined) return this.after(LOCAL_ANSWER_MS, (r) => r.resolve());
    this.setStatus(peer, 'cooling');
    // The protocols end at once; the connection manager holds the connection for its time-wait.
    this.sched.at(this.sched.now() + (this.config.timeWaitMs ?? 60_000), () => {
      if (this.generation.get(peer) === gen) this.setStatus(peer, 'cold');
    });
    return SyncResult.resolved<void>(undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Peer sharing, root peers, big ledger peers

  readonly sharing = {
    requestPeers: (peer: Peer, amount: number) => this.requestPeers(peer, amount),
  };

  private requestPeers(peer: Peer, amount: number): SyncResult<Peer[]> {
    const salt = stickySalt(this.sched.now(), this.secret);
    const spec = this.specs.get(peer);
    const st = this.statusOf.get(peer);
    const alive = st === 'warm' || st === 'hot';
    const delay = spec
      ? 2 * spec.latencyMs + this.rng.uniform(0, 1) * (spec.latencyMs > 1_000 ? 12_000 : 1_000)
      : 1_000;
    const ok = !!spec && spec.sharing && alive && delay <= this.policy.peerShareOverallTimeoutMs;
    const peers = ok && spec ? answerPeerShare(spec.neighbours, amount, salt) : [];
    return this.after(delay, (r) => {
      if (!ok) {
        r.reject(failure('peer sharing failed'));
        return;
      }
      for (const p of peers) this.announced.add(p);
      r.resolve(peers);
    });
  }

  readonly rootPeers = {
    requestRootPeers: (count: number, options: { bootstrap: boolean }) => this.requestRootPeers(count, options),
  };

  /**
   * Root peers (§6.4) through the node's provider: ledger peers, else the topology's public roots,
   * the bootstrap peers in the sensitive state; names resolved. Answered after ROOT_ANSWER_MS.
   */
  private requestRootPeers(
    count: number,
    options: { bootstrap: boolean },
  ): SyncResult<RootPeersAnswer<RootPeerResult>> {
    return this.answerLater(this.publicRootPeers.requestRootPeers(count, options), (a) => a.peers.map((p) => p.peer));
  }

  readonly bigLedgerPeers = {
    requestBigLedgerPeers: (count: number) => this.requestBigLedgerPeers(count),
  };

  /** The big ledger pools, computed once (the pools do not change during a run). */
  private bigPools: LedgerPool<Peer>[] | undefined;

  private requestBigLedgerPeers(count: number): SyncResult<RootPeersAnswer<Peer>> {
    return this.answerLater(this.bigLedgerPeerSource.requestBigLedgerPeers(count), (a) => a.peers);
  }

  /** Announces the peers of an answer as soon as it is known and delivers it ROOT_ANSWER_MS after the request. */
  private answerLater<A>(answer: PromiseLike<A>, peersOf: (a: A) => Peer[]): SyncResult<A> {
    const out = new SyncResult<A>();
    const due = this.sched.now() + ROOT_ANSWER_MS;
    answer.then(
      (a) => {
        for (const p of peersOf(a)) this.announced.add(p);
        this.sched.at(Math.max(due, this.sched.now()), () => out.resolve(a));
      },
      (e) => this.sched.at(Math.max(due, this.sched.now()), () => out.reject(e)),
    );
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Blocks: hot peers deliver headers and blocks; the earliest wins the slot (peer metrics).

  /** Starts forging blocks (a mean of `blockIntervalMs` apart) for the sink's hot peers. */
  startBlocks(sink: BlockSink): void {
    if ((this.config.blockIntervalMs ?? 20_000) > 0) this.scheduleBlock(sink, this.sched.now());
  }

  private scheduleBlock(sink: BlockSink, after: Millis): void {
    const mean = this.config.blockIntervalMs ?? 20_000;
    const gap = -Math.log(1 - this.rng.next()) * mean;
    // One callback for every block of this sink (a block every 20 s: no closure made per block).
    if (this.forgeFor?.sink !== sink) this.forgeFor = { sink, forge: () => this.forge(sink) };
    this.sched.at(after + gap, this.forgeFor.forge);
  }

  private forgeFor: { sink: BlockSink; forge: () => void } | undefined;

  /** A block now: the hot peers deliver it, the earliest wins the slot; then the next block. */
  private forge(sink: BlockSink): void {
    const now = this.sched.now();
    const slot = Math.floor(now / 1_000);
    // Only the earliest delivery of the slot stays on each board (the first of equal times, as
    // inserting them in turn would keep): the others only refresh the peers' join slots.
    let header: Peer | undefined;
    let headerAt = Number.POSITIVE_INFINITY;
    let fetch: Peer | undefined;
    let fetchAt = Number.POSITIVE_INFINITY;
    const hot = sink.hotPeers();
    // Hot peers the world does not simulate (none, unless a test made them hot) take no part.
    let unsimulated: Set<Peer> | undefined;
    for (const p of hot) {
      const spec = this.specs.get(p);
      if (!spec) {
        unsimulated ??= new Set();
        unsimulated.add(p);
        continue;
      }
      const arrival = now + spec.headerDelayMs * (0.8 + 0.4 * this.rng.next());
      if (arrival < headerAt) {
        headerAt = arrival;
        header = p;
      }
      if (arrival + spec.latencyMs < fetchAt) {
        fetchAt = arrival + spec.latencyMs;
        fetch = p;
      }
    }
    // The participants noted in one call (the metrics' join slots do not depend on the draws above).
    sink.notePeers(slot, unsimulated ? [...hot].filter((p) => !unsimulated.has(p)) : hot);
    if (header !== undefined) sink.recordHeader(slot, header, headerAt);
    if (fetch !== undefined) sink.recordFetch(slot, fetch, 50_000, fetchAt);
    this.scheduleBlock(sink, now);
  }
}
