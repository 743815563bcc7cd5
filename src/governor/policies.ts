/**
 * Pick policies, delays and the peer-sharing answer policy (governor.md §2.5-2.7, §7, §11).
 *
 * A pick policy receives the candidates and at most how many to pick, and returns a non-empty
 * subset of at most that many (the reference asserts these pre/postconditions in `pickPeers`).
 * Every policy draws one random 32-bit key per candidate and keeps the smallest keys:
 * - uniform random promotion (`simplePromotionPolicy`): key = random;
 * - warm demotion: key = random, halved for tepid peers (ex-hot peers are closed first);
 * - cold forgetting: key = random / (failCount + 1) (failing peers forgotten first);
 * - hot demotion: by (upstreamyness score, join slot, random), lowest demoted; peers unknown to the
 *   metrics score (0, none) and go first; on equal scores the earlier joiner goes first.
 */
import type { MetricScores } from './peer-metrics.js';
import type { Rng } from './rng.js';
import type { GovernorState, KnownPeerInfo, Peer, Time } from './types.js';

/**
 * What the warm-demotion and cold-forgetting policies read of the state: the known peers' tepid
 * flag and fail count (a `GovernorState` is one; the simulator passes its own per-node view).
 */
export interface KnownPeerFlags {
  readonly known: { get(peer: Peer): Pick<KnownPeerInfo, 'tepid' | 'failCount'> | undefined };
}

/** The reference's `PeerSelectionPolicy` timing knobs and Cardano constants (governor.md §11). */
export interface GovernorPolicy {
  maxInProgressPeerShareReqs: number;
  peerShareRetryTimeMs: number;
  peerShareBatchWaitMs: number;
  peerShareOverallTimeoutMs: number;
  peerShareActivationDelayMs: number;
  maxConnectionRetries: number;
  clearFailCountDelayMs: number;
  /** `repromoteErrorDelay`, used after a failed warm->hot promotion. */
  errorDelayMs: number;
  maxInboundPeers: number;
  inboundPeersRetryDelayMs: number;
  /** Whether we take part in peer sharing (`PeerSharingEnabled`; relays on, block producers off). */
  peerSharing: boolean;
  /** Sanity limits for targets (reference values; raised only by benchmarks). */
  sanityLimits: { active: number; established: number; known: number };
}

export const DEFAULT_POLICY: Readonly<GovernorPolicy> = Object.freeze({
  maxInProgressPeerShareReqs: 2,
  peerShareRetryTimeMs: 900_000,
  peerShareBatchWaitMs: 3_000,
  peerShareOverallTimeoutMs: 10_000,
  peerShareActivationDelayMs: 300_000,
  maxConnectionRetries: 5,
  clearFailCountDelayMs: 120_000,
  errorDelayMs: 10_000,
  maxInboundPeers: 10,
  inboundPeersRetryDelayMs: 60_000,
  peerSharing: true,
  sanityLimits: Object.freeze({ active: 100, established: 1000, known: 10000 }),
});

/** `c_PEER_DEMOTION_TIMEOUT`: how long close/failed-deactivate jobs wait for the peer to be cold. */
export const PEER_DEMOTION_TIMEOUT_MS = 600_000;
/** `ps_POLICY_PEER_SHARE_MAX_PEERS` and `ps_POLICY_PEER_SHARE_STICKY_TIME`. */
export const PEER_SHARE_MAX_PEERS = 10;
export const PEER_SHARE_STICKY_TIME_MS = 823_000;

// ---------------------------------------------------------------------------------------------
// Selecting the n smallest keys without sorting everything (candidate sets reach 100k peers).

interface Keyed<K> {
  p: Peer;
  k: K;
}

function smallestN<K>(
  items: readonly Peer[],
  n: number,
  key: (p: Peer) => K,
  less: (a: K, b: K) => boolean,
  /** The same order as `less`, as a comparator of keyed entries. */
  byKey: (a: Keyed<K>, b: Keyed<K>) => number,
): Peer[] {
  if (n <= 0 || items.length === 0) return [];
  const keyed = items.map((p) => ({ p, k: key(p) }));
  if (n >= keyed.length) return keyed.sort(byKey).map((e) => e.p);
  // A max-heap of the n smallest seen so far (its helpers are top-level functions: no closures
  // made per pick).
  const heap: Array<Keyed<K>> = [];
  for (const e of keyed) {
    if (heap.length < n) {
      heap.push(e);
      siftUp(heap, heap.length - 1, less);
    } else if (less(e.k, (heap[0] as Keyed<K>).k)) {
      heap[0] = e;
      siftDown(heap, 0, less);
    }
  }
  return heap.sort(byKey).map((e) => e.p);
}

function siftUp<K>(heap: Array<Keyed<K>>, i: number, less: (a: K, b: K) => boolean): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const a = heap[i] as Keyed<K>;
    const b = heap[parent] as Keyed<K>;
    if (!less(b.k, a.k)) break;
    heap[i] = b;
    heap[parent] = a;
    i = parent;
  }
}

function siftDown<K>(heap: Array<Keyed<K>>, i: number, less: (a: K, b: K) => boolean): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && less((heap[m] as Keyed<K>).k, (heap[l] as Keyed<K>).k)) m = l;
    if (r < heap.length && less((heap[m] as Keyed<K>).k, (heap[r] as Keyed<K>).k)) m = r;
    if (m === i) return;
    const t = heap[i] as Keyed<K>;
    heap[i] = heap[m] as Keyed<K>;
    heap[m] = t;
    i = m;
  }
}

/**
 * `smallestN` for numeric keys, the same picks in the same order: the same key draws (one per item,
 * in order), the same max-heap moves and the same stable sorts, on item indices with the keys in a
 * plain number array (unboxed doubles) instead of an object (and a boxed key above 2^31) per item.
 */
function smallestNumN(items: readonly Peer[], n: number, key: (p: Peer) => number): Peer[] {
  if (n <= 0 || items.length === 0) return [];
  const keys: number[] = [];
  for (const p of items) keys.push(key(p));
  // Keys are finite integers: the sign of the difference is the order.
  const byKey = (a: number, b: number) => (keys[a] as number) - (keys[b] as number);
  if (n >= items.length) {
    const all: number[] = [];
    for (let i = 0; i < items.length; i++) all.push(i);
    return all.sort(byKey).map((i) => items[i] as Peer);
  }
  const heap: number[] = [];
  for (let i = 0; i < items.length; i++) {
    if (heap.length < n) {
      heap.push(i);
      siftUpNum(heap, heap.length - 1, keys);
    } else if ((keys[i] as number) < (keys[heap[0] as number] as number)) {
      heap[0] = i;
      siftDownNum(heap, 0, keys);
    }
  }
  return heap.sort(byKey).map((i) => items[i] as Peer);
}

function siftUpNum(heap: number[], i: number, keys: readonly number[]): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const a = heap[i] as number;
    const b = heap[parent] as number;
    if (!((keys[b] as number) < (keys[a] as number))) break;
    heap[i] = b;
    heap[parent] = a;
    i = parent;
  }
}

function siftDownNum(heap: number[], i: number, keys: readonly number[]): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && (keys[heap[m] as number] as number) < (keys[heap[l] as number] as number)) m = l;
    if (r < heap.length && (keys[heap[m] as number] as number) < (keys[heap[r] as number] as number)) m = r;
    if (m === i) return;
    const t = heap[i] as number;
    heap[i] = heap[m] as number;
    heap[m] = t;
    i = m;
  }
}

/** Candidates in iteration order: Maps and Sets keep insertion order, which a seeded run
 * reproduces, so picks depend only on the seed (sorting 100k addresses per pick would cost more). */
function ordered(candidates: Iterable<Peer>): Peer[] {
  return Array.isArray(candidates) ? (candidates as Peer[]) : [...candidates];
}

/**
 * Uniform random choice of at most n (`simplePromotionPolicy`). The reference sorts all candidates
 * by a random key; a partial Fisher-Yates shuffle draws the same distribution (a uniform random
 * subset) with n draws instead of one per candidate. An array argument is reordered.
 */
export function pickUniform(candidates: Iterable<Peer>, n: number, rng: Rng): Peer[] {
  // Decisions build a fresh candidate array for each pick, so it is shuffled in place (no copy of
  // up to 100,000 peers); any other iterable is copied first.
  const xs = Array.isArray(candidates) ? (candidates as Peer[]) : [...candidates];
  const k = Math.min(Math.max(0, n), xs.length);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(xs.length - i);
    const t = xs[i] as Peer;
    xs[i] = xs[j] as Peer;
    xs[j] = t;
  }
  return xs.slice(0, k);
}

/** Warm demotion: random key, halved for tepid peers. */
export function pickWarmToDemote(s: KnownPeerFlags, candidates: Iterable<Peer>, n: number, rng: Rng): Peer[] {
  return smallestNumN(ordered(candidates), n, (p) => {
    const r = rng.nextU32();
    return s.known.get(p)?.tepid ? Math.floor(r / 2) : r;
  });
}

/** Cold forgetting: random key divided by (failCount + 1). */
export function pickColdToForget(s: KnownPeerFlags, candidates: Iterable<Peer>, n: number, rng: Rng): Peer[] {
  return smallestNumN(ordered(candidates), n, (p) =>
    Math.floor(rng.nextU32() / ((s.known.get(p)?.failCount ?? 0) + 1)),
  );
}

type HotKey = [number, number, number];
const lessHot = (a: HotKey, b: HotKey) => (a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2]);
const byHotKey = (a: Keyed<HotKey>, b: Keyed<HotKey>) => (lessHot(a.k, b.k) ? -1 : lessHot(b.k, a.k) ? 1 : 0);

/**
 * Hot demotion by upstreamness: sort by (score, join slot, random) and demote the lowest. A peer
 * absent from the metrics scores (0, none), and "none" sorts before any slot.
 */
export function pickHotToDemote(
  candidates: Iterable<Peer>,
  n: number,
  rng: Rng,
  metrics: MetricScores | undefined,
): Peer[] {
  return smallestN<HotKey>(
    ordered(candidates),
    n,
    (p) => [metrics?.score.get(p) ?? 0, metrics?.joined.get(p) ?? Number.NEGATIVE_INFINITY, rng.nextU32()],
    lessHot,
    byHotKey,
  );
}

// ---------------------------------------------------------------------------------------------
// Delays (all fuzzed, §2.10)

/** cold->warm failure: 5·2^min(failCount−1, 5) s + U(−2, 2) s (5, 10, ... 160 s), in ms. */
export function connectFailureDelay(failCount: number, rng: Rng): number {
  return 5_000 * 2 ** Math.min(Math.max(failCount - 1, 0), 5) + rng.uniform(-2_000, 2_000);
}

/** warm->hot failure: repromote error delay (10 s) + U(−2, 2) s. */
export function activateFailureDelay(policy: GovernorPolicy, rng: Rng): number {
  return policy.errorDelayMs + rng.uniform(-2_000, 2_000);
}

/** Asynchronous demotion to warm: repromote delay + U(0.1, 10) s before the peer may go hot again. */
export function asyncWarmDelay(repromoteDelayMs: number, rng: Rng): number {
  return repromoteDelayMs + rng.uniform(100, 10_000);
}

/** Asynchronous demotion to cold: repromote delay + U(0.1, 4) s before the peer may be dialled again. */
export function asyncColdDelay(repromoteDelayMs: number, rng: Rng): number {
  return repromoteDelayMs + rng.uniform(100, 4_000);
}

/** Public-root and big-ledger request backoff: 2^min(n, 8) s, in ms. */
export function requestBackoffDelay(backoffs: number): number {
  return 1_000 * 2 ** Math.min(Math.abs(backoffs), 8);
}

/**
 * The retry schedule shared by root-peer and big-ledger-peer requests: failures count down (negative),
 * answers that add nothing count up, both wait 2^|n| s; an answer that adds peers resets the count and
 * waits for its TTL.
 */
export function nextRequestSchedule(
  backoffs: number,
  outcome: { failed: true } | { failed: false; added: number; ttlMs: number },
  now: number,
): { backoffs: number; retryAt: number } {
  if (!outcome.failed && outcome.added > 0) return { backoffs: 0, retryAt: now + outcome.ttlMs };
  const next = outcome.failed ? Math.min(backoffs, 0) - 1 : Math.max(backoffs, 0) + 1;
  return { backoffs: next, retryAt: now + requestBackoffDelay(next) };
}

// ---------------------------------------------------------------------------------------------
// Peer sharing

/** 32-bit FNV-1a over the salt and the peer: the "salted hash" ordering of peer-share answers. */
export function saltedHash(salt: number, peer: Peer): number {
  let h = (0x811c9dc5 ^ (salt >>> 0)) >>> 0;
  h = Math.imul(h, 0x01000193) >>> 0;
  for (let i = 0; i < peer.length; i++) {
    h ^= peer.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Orders peers by their salted hash (ties by address so the order is total). */
export function orderBySalt(peers: Iterable<Peer>, salt: number): Peer[] {
  return [...peers]
    .map((p) => ({ p, h: saltedHash(salt, p) }))
    .sort((a, b) => a.h - b.h || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0))
    .map((e) => e.p);
}

/** The sticky salt: it changes every 823 s, so repeated requests mostly get the same answer. */
export function stickySalt(now: Time, secret: number): number {
  return saltedHash(secret, String(Math.floor(now / PEER_SHARE_STICKY_TIME_MS)));
}

/**
 * The peers we may share (`availableToShare`): known, advertised, connected successfully at least
 * once, no current failures, and never a big ledger peer.
 */
export function shareablePeers(s: GovernorState): Peer[] {
  const out: Peer[] = [];
  for (const [p, info] of s.known) {
    if (info.advertise && info.successfulConnection && info.failCount === 0 && !s.publicRoots.bigLedger.has(p))
      out.push(p);
  }
  return out;
}

/** The answer to a peer-share request for `amount` peers: at most min(amount, 10), in salted-hash order. */
export function answerPeerShare(candidates: Iterable<Peer>, amount: number, salt: number): Peer[] {
  return orderBySalt(candidates, salt).slice(0, Math.max(0, Math.min(amount, PEER_SHARE_MAX_PEERS)));
}

/** Amount asked of each peer in a peer-share batch: clamp(objective ÷ #asked, 8, 255). */
export function peerShareAmount(objective: number, asked: number): number {
  return Math.min(255, Math.max(8, Math.floor(objective / Math.max(1, asked))));
}
