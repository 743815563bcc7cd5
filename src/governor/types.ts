/**
 * The governor's data: targets, root peers, per-peer knowledge, in-flight sets, the jobs it asks
 * the shell to perform and the completions the shell feeds back (governor.md §2.2-2.3; the
 * reference's `Governor/Types.hs` and `State/*.hs`).
 *
 * The state is plain data (Maps and Sets keyed by peer id). `step` (governor.ts) never mutates the
 * state it is given: it works on a copy, so a caller may keep old states (tests compare them).
 */

import {
  type ConsensusMode,
  DEFAULT_DEADLINE_TARGETS,
  DEFAULT_SYNC_TARGETS,
  type DiffusionMode,
  type PeerTargets,
  saneTargets,
  TARGET_LIMITS,
  type TargetLimits,
} from '../lib/peer-targets.js';

/** A peer is identified by its address, `host:port` (`[v6]:port` for IPv6). */
export type Peer = string;

/**
 * Milliseconds on the governor's monotonic clock (simulated or real; injected, never read): the one
 * time unit of spo (docs/CONVENTIONS.md, `Millis` in src/lib/clock.ts).
 */
export type Time = number;

// ---------------------------------------------------------------------------------------------
// Targets (§2.3)

/** The seven targets (§2.3); the node's defaults and sanity rule are shared with src/config. */
export type Targets = PeerTargets;

/** `defaultDeadlineTargets` for a relay (governor.md §11). */
export const RELAY_DEFAULT_TARGETS: Readonly<Targets> = DEFAULT_DEADLINE_TARGETS.relay;

/** `defaultDeadlineTargets` for a block producer. */
export const BLOCK_PRODUCER_DEFAULT_TARGETS: Readonly<Targets> = DEFAULT_DEADLINE_TARGETS.producer;

/**
 * `defaultSyncTargets` (Genesis mode while the ledger state is `TooOld`, governor.md §11): few
 * ordinary peers, many big ledger peers.
 */
export const SYNC_DEFAULT_TARGETS: Readonly<Targets> = DEFAULT_SYNC_TARGETS;

export const ZERO_TARGETS: Readonly<Targets> = Object.freeze({
  root: 0,
  known: 0,
  established: 0,
  active: 0,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
});

/** The upper limits of `sanePeerSelectionTargets` (each, for both kinds). */
export type SanityLimits = TargetLimits;
export const SANITY_LIMITS: Readonly<SanityLimits> = TARGET_LIMITS;

/** The reference's `sanePeerSelectionTargets`: insane targets are ignored by the governor. */
export { saneTargets };

export function targetsEqual(a: Targets, b: Targets): boolean {
  return (
    a.root === b.root &&
    a.known === b.known &&
    a.established === b.established &&
    a.active === b.active &&
    a.knownBigLedger === b.knownBigLedger &&
    a.establishedBigLedger === b.establishedBigLedger &&
    a.activeBigLedger === b.activeBigLedger
  );
}

// ---------------------------------------------------------------------------------------------
// Local roots (§2.2, §2.5 "Local roots changed", §6.1)

export type { DiffusionMode };

export interface LocalRootConfig {
  /** Whether we share this address with others (`advertise`). */
  advertise: boolean;
  diffusionMode: DiffusionMode;
  /** `behindFirewall`: Inbound provenance, never dialled, only an existing inbound connection is reused. */
  behindFirewall: boolean;
  /** Cardano `trustable` flag. */
  trustable: boolean;
}

export const DEFAULT_LOCAL_ROOT_CONFIG: Readonly<LocalRootConfig> = Object.freeze({
  advertise: false,
  diffusionMode: 'InitiatorAndResponder',
  behindFirewall: false,
  trustable: false,
});

/** A configured group, as written in a topology (before normalisation). */
export interface LocalRootGroupConfig {
  hotValency: number;
  warmValency?: number | undefined;
  peers: ReadonlyArray<{ peer: Peer; config?: Partial<LocalRootConfig> | undefined }>;
}

/** A normalised group: 0 < hot <= warm <= members.length, members disjoint from earlier groups. */
export interface LocalRootGroup {
  hotValency: number;
  warmValency: number;
  members: readonly Peer[];
}

export interface LocalRoots {
  groups: readonly LocalRootGroup[];
  config: ReadonlyMap<Peer, LocalRootConfig>;
}

export const EMPTY_LOCAL_ROOTS: LocalRoots = Object.freeze({ groups: [], config: new Map() });

/**
 * The reference's `fromGroups`: drop peers already in earlier groups, warm := min(warm, size),
 * hot := min(hot, warm), drop groups left with no hot valency.
 */
export function normaliseLocalRoots(groups: readonly LocalRootGroupConfig[]): LocalRoots {
  const config = new Map<Peer, LocalRootConfig>();
  const out: LocalRootGroup[] = [];
  for (const g of groups) {
    const members: Peer[] = [];
    const cfgs: Array<[Peer, LocalRootConfig]> = [];
    for (const { peer, config: c } of g.peers) {
      if (config.has(peer) || cfgs.some(([p]) => p === peer)) continue;
      members.push(peer);
      cfgs.push([peer, { ...DEFAULT_LOCAL_ROOT_CONFIG, ...(c ?? {}) }]);
    }
    const warm = Math.min(Math.max(0, Math.floor(g.warmValency ?? g.hotValency)), members.length);
    const hot = Math.min(Math.max(0, Math.floor(g.hotValency)), warm);
    if (hot <= 0) continue;
    for (const [p, c] of cfgs) config.set(p, c);
    out.push({ hotValency: hot, warmValency: warm, members });
  }
  return { groups: out, config };
}

/**
 * The reference's `clampToLimit`: keep whole groups left to right until `limit` peers, cut the
 * last group (its first members, in configuration order) and lower its valencies to fit.
 */
export function clampLocalRoots(roots: LocalRoots, limit: number): LocalRoots {
  let left = Math.max(0, limit);
  const groups: LocalRootGroup[] = [];
  const config = new Map<Peer, LocalRootConfig>();
  for (const g of roots.groups) {
    if (left <= 0) break;
    const members = g.members.slice(0, left);
    left -= members.length;
    const warm = Math.min(g.warmValency, members.length);
    const hot = Math.min(g.hotValency, warm);
    if (hot <= 0) continue;
    groups.push({ hotValency: hot, warmValency: warm, members });
    for (const m of members) config.set(m, roots.config.get(m) ?? { ...DEFAULT_LOCAL_ROOT_CONFIG });
  }
  return { groups, config };
}

export function localRootsEqual(a: LocalRoots, b: LocalRoots): boolean {
  if (a.groups.length !== b.groups.length || a.config.size !== b.config.size) return false;
  for (let i = 0; i < a.groups.length; i++) {
    const x = a.groups[i] as LocalRootGroup;
    const y = b.groups[i] as LocalRootGroup;
    if (x.hotValency !== y.hotValency || x.warmValency !== y.warmValency) return false;
    if (x.members.length !== y.members.length) return false;
    for (let j = 0; j < x.members.length; j++) if (x.members[j] !== y.members[j]) return false;
  }
  for (const [p, c] of a.config) {
    const d = b.config.get(p);
    if (
      !d ||
      d.advertise !== c.advertise ||
      d.diffusionMode !== c.diffusionMode ||
      d.behindFirewall !== c.behindFirewall ||
      d.trustable !== c.trustable
    )
      return false;
  }
  return true;
}

/** Sum of the hot valencies of all groups (`ltt` in the churn's bulk-sync regimes). */
export function localRootHotTarget(roots: LocalRoots): number {
  return roots.groups.reduce((s, g) => s + g.hotValency, 0);
}

// ---------------------------------------------------------------------------------------------
// Public roots (§2.2 `PublicRootPeers`, Cardano `ExtraRootPeers`)

export interface ExtraRootInfo {
  advertise: boolean;
  /** `bootstrapPeers` rather than topology `publicRoots`. */
  bootstrap: boolean;
}

/** Pairwise disjoint, and disjoint from local roots. */
export interface PublicRoots {
  ledger: Set<Peer>;
  bigLedger: Set<Peer>;
  /** Topology `publicRoots` and `bootstrapPeers`: never forgotten on failures. */
  extra: Map<Peer, ExtraRootInfo>;
}

// ---------------------------------------------------------------------------------------------
// Per-peer knowledge (§2.2 `KnownPeerInfo`)

/** Where a peer was first learned from (kept for reports after it loses root status). */
export type PeerOrigin =
  | 'local-root'
  | 'public-root'
  | 'bootstrap'
  | 'ledger'
  | 'big-ledger'
  | 'peer-share'
  | 'inbound';

export interface KnownPeerInfo {
  /** Consecutive failures; reset only by the clear timer armed when the peer goes hot. */
  failCount: number;
  /** Was hot, then demoted; set on hot->warm, cleared on cold->warm. */
  tepid: boolean;
  /** The remote's willingness to share peers, learnt at handshake (undefined: not known yet). */
  sharing: boolean | undefined;
  /** Our willingness to share this address. */
  advertise: boolean;
  /** Ever connected successfully. */
  successfulConnection: boolean;
  origin: PeerOrigin;
}

/** Per established peer. */
export interface EstablishedInfo {
  /** The remote negotiated peer sharing. */
  sharing: boolean;
  /** When the connection was established (for reports). */
  since: Time;
}

// ---------------------------------------------------------------------------------------------
// Connection status as the shell reports it (`monitorPeerConnection`, §3.1, §3.3)

export type PeerStatus = 'cold' | 'cooling' | 'warm' | 'hot';

export interface ConnStatus {
  status: PeerStatus;
  /** The maximum repromote delay over the finished protocols (ms), when one was reported. */
  repromoteDelayMs?: number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Jobs: what the core asks the shell to do. Each carries an id echoed in its completion.

export type Job =
  /** `bootstrap`: the node is in the sensitive state, answer from the configured bootstrap peers only (§2.9, §6.4). */
  | { kind: 'rootPeers'; id: number; count: number; bootstrap?: true }
  | { kind: 'bigLedgerPeers'; id: number; count: number }
  | { kind: 'peerShare'; id: number; peers: Peer[]; amount: number; salt: number }
  | { kind: 'connect'; id: number; peer: Peer; diffusionMode: DiffusionMode; behindFirewall: boolean }
  | { kind: 'activate'; id: number; peer: Peer }
  | { kind: 'deactivate'; id: number; peer: Peer }
  | { kind: 'close'; id: number; peer: Peer };

export type JobKind = Job['kind'];

/** A peer a root-peers request returned. */
export interface RootPeerResult {
  peer: Peer;
  kind: 'ledger' | 'public-root' | 'bootstrap';
  advertise: boolean;
}

/**
 * Completions: the shell's report of a finished job, applied by the core to the then-current state
 * (the world may have moved on meanwhile: every handler tolerates it, §2.10).
 * Contract with the shell (what the reference's jobs do inside themselves):
 * - a connection's new status (`peerStatus` warm after a connect, hot after an activation, warm
 *   after a deactivation) is reported before or with the job's completion, as the reference reads
 *   it from the same connection handle;
 * - `activate` failures are reported after the 1 s anti-busy-loop pause;
 * - `close` and failed `deactivate` wait (<= 600 s) until the connection is cold before reporting,
 *   `becameCold` says whether that happened;
 * - a peer-share job reports each asked peer exactly once, in a partial phase (after the 3 s batch
 *   wait) or the final one (by the 10 s overall timeout).
 */
export type Completion =
  | { kind: 'rootPeers'; jobId: number; ok: true; peers: RootPeerResult[]; ttlMs: number }
  | { kind: 'rootPeers'; jobId: number; ok: false; error: string }
  | { kind: 'bigLedgerPeers'; jobId: number; ok: true; peers: Peer[]; ttlMs: number }
  | { kind: 'bigLedgerPeers'; jobId: number; ok: false; error: string }
  | {
      kind: 'peerShare';
      jobId: number;
      results: Array<{ peer: Peer; ok: boolean; peers: Peer[] }>;
      final: boolean;
    }
  | { kind: 'connect'; jobId: number; peer: Peer; ok: true; sharing: boolean }
  | { kind: 'connect'; jobId: number; peer: Peer; ok: false; error: string }
  | { kind: 'activate'; jobId: number; peer: Peer; ok: boolean; error?: string }
  | { kind: 'deactivate'; jobId: number; peer: Peer; ok: boolean; becameCold?: boolean }
  | { kind: 'close'; jobId: number; peer: Peer; becameCold: boolean };

/** Everything the shell can tell the core; delivered in batches to `step`. */
export type Input =
  | { kind: 'completion'; completion: Completion }
  /** The targets variable (written by churn or configuration). */
  | { kind: 'targets'; targets: Targets }
  /** The configured local-root groups (written by the local-roots provider). */
  | { kind: 'localRoots'; groups: readonly LocalRootGroupConfig[] }
  /** A change in a connection's status (`monitorPeerConnection`); `cold` ends the connection. */
  | { kind: 'peerStatus'; peer: Peer; status: PeerStatus; repromoteDelayMs?: number | undefined }
  /** Mature inbound duplex peers and their sharing flag (from the inbound governor). */
  | { kind: 'inboundPeers'; peers: ReadonlyArray<[Peer, boolean]> }
  /** Genesis sync targets (used instead of `targets` in Genesis mode while the ledger state is too old). */
  | { kind: 'syncTargets'; targets: Targets }
  /** Consensus's judgement of the ledger state (`LedgerStateJudgement`). */
  | { kind: 'ledgerStateJudgement'; judgement: LedgerStateJudgement }
  /** Topology `bootstrapPeers` present (`UseBootstrapPeers`) or not. */
  | { kind: 'useBootstrapPeers'; enabled: boolean }
  /** Configuration, applied at once: the consensus mode (`ConsensusMode`), set before the first step. */
  | { kind: 'consensusMode'; mode: ConsensusMode }
  /** Configuration, applied at once: ledger peers in use (topology `useLedgerAfterSlot` >= 0). */
  | { kind: 'useLedgerPeers'; enabled: boolean };

/** Consensus's view of how old the ledger state is (Cardano `LedgerStateJudgement`). */
export type LedgerStateJudgement = 'youngEnough' | 'tooOld';
/** `ConsensusMode`: Praos (bootstrap peers while syncing) or Genesis (sync targets, big ledger peers). */
export type { ConsensusMode };
/** `AssociationMode`: a hidden relay / block producer talking only to its local roots, or not. */
export type AssociationMode = 'localRootsOnly' | 'unrestricted';

// ---------------------------------------------------------------------------------------------
// Trace: what each decision did (data; rendered by `spo governor dry-run --trace`)

/** The governor's trace events: the reference's trace constructor names, minus `Trace`. */
export type GovernorEventType =
  | 'BigLedgerPeersFailure'
  | 'BigLedgerPeersRequest'
  | 'BigLedgerPeersResults'
  | 'BootstrapPeersCriticalTimeoutError'
  | 'DemoteAsynchronousToCold'
  | 'DemoteAsynchronousToCooling'
  | 'DemoteAsynchronousToWarm'
  | 'DemoteHotBigLedgerPeers'
  | 'DemoteHotDone'
  | 'DemoteHotFailed'
  | 'DemoteHotPeers'
  | 'DemoteHotTimeout'
  | 'DemoteLocalHotPeers'
  | 'DemoteWarmBigLedgerPeers'
  | 'DemoteWarmDone'
  | 'DemoteWarmPeers'
  | 'DemoteWarmTimeout'
  | 'EnterSensitiveState'
  | 'ForgetBigLedgerPeers'
  | 'ForgetColdPeers'
  | 'LeaveSensitiveState'
  | 'LedgerStateJudgementChanged'
  | 'LocalRootPeersChanged'
  | 'OnlyBootstrapPeers'
  | 'PeerShareRequests'
  | 'PeerShareResults'
  | 'PeerShareResultsPartial'
  | 'PickInboundPeers'
  | 'PromoteColdBigLedgerPeers'
  | 'PromoteColdDone'
  | 'PromoteColdFailed'
  | 'PromoteColdLocalPeers'
  | 'PromoteColdPeers'
  | 'PromoteWarmAborted'
  | 'PromoteWarmBigLedgerPeers'
  | 'PromoteWarmDone'
  | 'PromoteWarmFailed'
  | 'PromoteWarmLocalPeers'
  | 'PromoteWarmPeers'
  | 'PublicRootsFailure'
  | 'PublicRootsRequest'
  | 'PublicRootsResults'
  | 'TargetsChanged'
  | 'UseBootstrapPeersChanged';

export interface TraceEvent {
  type: GovernorEventType;
  peers?: Peer[];
  count?: number;
  detail?: string;
}

/** One decision: its trace and its jobs (the new state is returned by `step`). */
export interface Decision {
  at: Time;
  trace: TraceEvent[];
  jobs: Job[];
}

// ---------------------------------------------------------------------------------------------
// The state

export interface GovernorState {
  targets: Targets;
  localRoots: LocalRoots;
  publicRoots: PublicRoots;
  known: Map<Peer, KnownPeerInfo>;
  /** The known peers as an array and each one's position in it: uniform sampling in O(1) per draw. */
  knownList: Peer[];
  knownIndex: Map<Peer, number>;
  /** Backoff queue: known peers not available to connect before the given time. */
  nextConnect: Map<Peer, Time>;
  /** Hot peers whose fail count will be reset at the given time. */
  clearFailCount: Map<Peer, Time>;
  established: Map<Peer, EstablishedInfo>;
  /** Established peers whose next peer-share request may not happen before the given time. */
  nextShare: Map<Peer, Time>;
  /** Established peers with sharing enabled whose share timer has expired. */
  availableForShare: Set<Peer>;
  /** Established peers not ready to be activated before the given time. */
  nextActivate: Map<Peer, Time>;
  active: Set<Peer>;
  /** When each peer entered its current temperature (reports only). */
  since: Map<Peer, Time>;

  publicRootBackoffs: number;
  publicRootRetryTime: Time;
  inProgressPublicRootsReq: boolean;
  bigLedgerPeerBackoffs: number;
  bigLedgerPeerRetryTime: Time;
  inProgressBigLedgerPeersReq: boolean;

  inProgressPeerShareReqs: number;
  inProgressPromoteCold: Set<Peer>;
  inProgressPromoteWarm: Set<Peer>;
  inProgressDemoteWarm: Set<Peer>;
  inProgressDemoteHot: Set<Peer>;
  /** Cooling: the connection is going away asynchronously. */
  inProgressDemoteToCold: Set<Peer>;
  inboundPeersRetryTime: Time;

  /**
   * The reference's `enableProgressMakingActions`: false in the bootstrap "sensitive" state
   * (no big ledger peers, no peer sharing, no inbound peers). Kept equal to `!requiresBootstrapPeers`.
   */
  progressEnabled: boolean;

  // Cardano extra state (`CDL/PeerSelection/Governor/PeerSelectionState.hs`, bootstrap.ts)
  /** The installed `UseBootstrapPeers` flag. */
  useBootstrapPeers: boolean;
  /** The installed ledger-state judgement. */
  ledgerStateJudgement: LedgerStateJudgement;
  consensusMode: ConsensusMode;
  useLedgerPeers: boolean;
  /** In the sensitive state: known ⊆ bootstrap ∪ trustable local roots and nothing in flight was reached. */
  hasOnlyBootstrapPeers: boolean;
  /** The 15-minute deadline to reach `hasOnlyBootstrapPeers` (undefined: not armed). */
  bootstrapPeersTimeout: Time | undefined;

  // What the governor reads from the world (the reference's TVars), updated by inputs.
  targetsVar: Targets;
  syncTargetsVar: Targets;
  useBootstrapPeersVar: boolean;
  ledgerStateJudgementVar: LedgerStateJudgement;
  localRootsVar: readonly LocalRootGroupConfig[];
  connStatus: Map<Peer, ConnStatus>;
  inboundPeers: Map<Peer, boolean>;
  /** Finished jobs not yet applied, oldest first. */
  completions: Completion[];

  /** Peer-share jobs in flight: the peers still to report and the job's salt, per job id. */
  peerShareJobs: Map<number, { pending: Set<Peer>; salt: number }>;
  nextJobId: number;
  /** Decisions taken so far (for tests and reports). */
  decisionCount: number;
  /**
   * No entry of the four timer maps (nextConnect, clearFailCount, nextShare, nextActivate) falls due
   * before this time, and they held `timersSeen` entries together when it was computed: until then
   * `setCurrentTime` need not walk them (it runs before every decision). Kept by `armTimer`.
   */
  timersDueFrom: Time;
  timersSeen: number;
  /** The last time the state was advanced to. */
  now: Time;
}

export function emptyPublicRoots(): PublicRoots {
  return { ledger: new Set(), bigLedger: new Set(), extra: new Map() };
}

/** A governor that knows nothing and has all-zero targets, at time `now`. */
export function initialState(now: Time = 0): GovernorState {
  return {
    targets: { ...ZERO_TARGETS },
    localRoots: EMPTY_LOCAL_ROOTS,
    publicRoots: emptyPublicRoots(),
    known: new Map(),
    knownList: [],
    knownIndex: new Map(),
    nextConnect: new Map(),
    clearFailCount: new Map(),
    established: new Map(),
    nextShare: new Map(),
    availableForShare: new Set(),
    nextActivate: new Map(),
    active: new Set(),
    since: new Map(),
    publicRootBackoffs: 0,
    publicRootRetryTime: now,
    inProgressPublicRootsReq: false,
    bigLedgerPeerBackoffs: 0,
    bigLedgerPeerRetryTime: now,
    inProgressBigLedgerPeersReq: false,
    inProgressPeerShareReqs: 0,
    inProgressPromoteCold: new Set(),
    inProgressPromoteWarm: new Set(),
    inProgressDemoteWarm: new Set(),
    inProgressDemoteHot: new Set(),
    inProgressDemoteToCold: new Set(),
    inboundPeersRetryTime: now,
    progressEnabled: true,
    useBootstrapPeers: false,
    ledgerStateJudgement: 'youngEnough',
    consensusMode: 'praos',
    useLedgerPeers: true,
    hasOnlyBootstrapPeers: false,
    bootstrapPeersTimeout: undefined,
    targetsVar: { ...ZERO_TARGETS },
    syncTargetsVar: { ...SYNC_DEFAULT_TARGETS },
    useBootstrapPeersVar: false,
    ledgerStateJudgementVar: 'youngEnough',
    localRootsVar: [],
    connStatus: new Map(),
    inboundPeers: new Map(),
    completions: [],
    peerShareJobs: new Map(),
    nextJobId: 1,
    decisionCount: 0,
    timersDueFrom: Number.POSITIVE_INFINITY,
    timersSeen: 0,
    now,
  };
}

/** A copy whose collections can be changed without touching the original (values are replaced, never mutated). */
export function cloneState(s: GovernorState): GovernorState {
  return {
    ...s,
    targets: { ...s.targets },
    publicRoots: {
      ledger: new Set(s.publicRoots.ledger),
      bigLedger: new Set(s.publicRoots.bigLedger),
      extra: new Map(s.publicRoots.extra),
    },
    known: new Map(s.known),
    knownList: s.knownList.slice(),
    knownIndex: new Map(s.knownIndex),
    nextConnect: new Map(s.nextConnect),
    clearFailCount: new Map(s.clearFailCount),
    established: new Map(s.established),
    nextShare: new Map(s.nextShare),
    availableForShare: new Set(s.availableForShare),
    nextActivate: new Map(s.nextActivate),
    active: new Set(s.active),
    since: new Map(s.since),
    inProgressPromoteCold: new Set(s.inProgressPromoteCold),
    inProgressPromoteWarm: new Set(s.inProgressPromoteWarm),
    inProgressDemoteWarm: new Set(s.inProgressDemoteWarm),
    inProgressDemoteHot: new Set(s.inProgressDemoteHot),
    inProgressDemoteToCold: new Set(s.inProgressDemoteToCold),
    targetsVar: { ...s.targetsVar },
    syncTargetsVar: { ...s.syncTargetsVar },
    connStatus: new Map(s.connStatus),
    inboundPeers: new Map(s.inboundPeers),
    completions: s.completions.slice(),
    peerShareJobs: new Map([...s.peerShareJobs].map(([k, v]) => [k, { pending: new Set(v.pending), salt: v.salt }])),
  };
}

// ---------------------------------------------------------------------------------------------
// Counters (`peerSelectionStateToView`): what churn and reports see

export interface Counters {
  known: number;
  established: number;
  active: number;
  knownBigLedger: number;
  establishedBigLedger: number;
  activeBigLedger: number;
  /** |local roots ∪ public roots| (big ledger peers included), compared with the root target. */
  root: number;
}

export function counters(s: GovernorState, counted?: { established: number; active: number }): Counters {
  // `counted`: the big ledger peers among the established and active ones, when already counted.
  let estBlp = counted?.established ?? 0;
  let actBlp = counted?.active ?? 0;
  if (!counted)
    for (const p of s.publicRoots.bigLedger) {
      if (s.established.has(p)) estBlp++;
      if (s.active.has(p)) actBlp++;
    }
  const blp = s.publicRoots.bigLedger.size;
  return {
    known: s.known.size - blp,
    established: s.established.size - estBlp,
    active: s.active.size - actBlp,
    knownBigLedger: blp,
    establishedBigLedger: estBlp,
    activeBigLedger: actBlp,
    root: numberOfRootPeers(s),
  };
}

export function numberOfRootPeers(s: GovernorState): number {
  return s.localRoots.config.size + s.publicRoots.ledger.size + s.publicRoots.bigLedger.size + s.publicRoots.extra.size;
}

export function isPublicRoot(s: GovernorState, p: Peer): boolean {
  return s.publicRoots.ledger.has(p) || s.publicRoots.bigLedger.has(p) || s.publicRoots.extra.has(p);
}

export function isBigLedger(s: GovernorState, p: Peer): boolean {
  return s.publicRoots.bigLedger.has(p);
}

export type Temperature = 'cold' | 'warm' | 'hot';

export function temperature(s: GovernorState, p: Peer): Temperature {
  return s.active.has(p) ? 'hot' : s.established.has(p) ? 'warm' : 'cold';
}

/** The peer's current source for reports: its root status, else where it was learnt. */
export function peerSource(s: GovernorState, p: Peer): PeerOrigin {
  if (s.localRoots.config.has(p)) return 'local-root';
  if (s.publicRoots.bigLedger.has(p)) return 'big-ledger';
  if (s.publicRoots.ledger.has(p)) return 'ledger';
  const extra = s.publicRoots.extra.get(p);
  if (extra) return extra.bootstrap ? 'bootstrap' : 'public-root';
  // A peer that lost root status keeps the origin it was first learnt from.
  return s.known.get(p)?.origin ?? 'peer-share';
}
