/**
 * Peer metrics: upstreamyness and fetchyness (governor.md §5, the reference's `PeerMetric.hs`).
 *
 * Two slot-indexed boards bounded to 180 entries: the header board records, per slot, the earliest
 * peer to deliver a (valid) header; the fetch board the earliest peer to deliver the block (and its
 * size). Upstreamyness = slots a peer won on the header board, fetchyness = slots (or bytes) won on
 * the fetch board. A peer registry records the slot at which each peer joined (tie-breaker in hot
 * demotion); peers unseen for a whole window count as new again. The "mean reward for new peers"
 * (`adjustAvg`) is disabled in the reference and not ported.
 *
 * Pure: every update returns a new value; boards are at most 180 entries so copies are cheap.
 */
import type { Peer, Time } from './types.js';

/** `maxEntriesToTrack`: one hour of blocks on mainnet. */
export const MAX_ENTRIES_TO_TRACK = 180;

export type Slot = number;

interface HeaderEntry {
  peer: Peer;
  time: Time;
}
interface FetchEntry {
  peer: Peer;
  bytes: number;
  time: Time;
}
interface Registered {
  joined: Slot;
  lastSeen: Slot;
}

export interface PeerMetrics {
  readonly maxEntries: number;
  readonly headers: ReadonlyMap<Slot, HeaderEntry>;
  readonly fetches: ReadonlyMap<Slot, FetchEntry>;
  readonly registry: ReadonlyMap<Peer, Registered>;
}

export function emptyMetrics(maxEntries = MAX_ENTRIES_TO_TRACK): PeerMetrics {
  return { maxEntries, headers: new Map(), fetches: new Map(), registry: new Map() };
}

/** The board insert rule: new slot inserts (dropping the oldest beyond the limit, or ignoring the
 * entry if it is itself the oldest); an existing slot is replaced only by an earlier time. */
function insertBoard<E extends { time: Time }>(
  board: ReadonlyMap<Slot, E>,
  slot: Slot,
  entry: E,
  max: number,
): Map<Slot, E> | undefined {
  const existing = board.get(slot);
  if (existing) {
    if (entry.time >= existing.time) return undefined;
    const next = new Map(board);
    next.set(slot, entry);
    return next;
  }
  let oldest = Number.POSITIVE_INFINITY;
  for (const s of board.keys()) if (s < oldest) oldest = s;
  if (board.size >= max && slot < oldest) return undefined;
  // Keep the map ordered by slot so that the oldest is cheap to find and iteration is deterministic.
  const entries = [...board.entries(), [slot, entry] as [Slot, E]].sort((a, b) => a[0] - b[0]);
  while (entries.length > max) entries.shift();
  return new Map(entries);
}

function register(registry: ReadonlyMap<Peer, Registered>, peer: Peer, slot: Slot, window: number) {
  const r = registry.get(peer);
  const next = new Map(registry);
  if (!r || r.lastSeen < slot - window) next.set(peer, { joined: slot, lastSeen: slot });
  else next.set(peer, { joined: r.joined, lastSeen: Math.max(r.lastSeen, slot) });
  return next;
}

/** Records that `peer` delivered a valid header for `slot` at `time`. */
export function addHeaderMetric(m: PeerMetrics, slot: Slot, peer: Peer, time: Time): PeerMetrics {
  const headers = insertBoard(m.headers, slot, { peer, time }, m.maxEntries) ?? m.headers;
  return { ...m, headers, registry: register(m.registry, peer, slot, m.maxEntries) };
}

/** Records that `peer` delivered the block of `slot` (`bytes` long) at `time`. */
export function addFetchMetric(m: PeerMetrics, slot: Slot, peer: Peer, bytes: number, time: Time): PeerMetrics {
  const fetches = insertBoard(m.fetches, slot, { peer, bytes, time }, m.maxEntries) ?? m.fetches;
  return { ...m, fetches, registry: register(m.registry, peer, slot, m.maxEntries) };
}

function countBy<E extends { peer: Peer }>(board: ReadonlyMap<Slot, E>, weight: (e: E) => number): Map<Peer, number> {
  const out = new Map<Peer, number>();
  for (const e of board.values()) out.set(e.peer, (out.get(e.peer) ?? 0) + weight(e));
  return out;
}

/** Slots won on the header board, per peer. */
export function upstreamyness(m: PeerMetrics): Map<Peer, number> {
  return countBy(m.headers, () => 1);
}

/** Slots won on the fetch board, per peer. */
export function fetchynessBlocks(m: PeerMetrics): Map<Peer, number> {
  return countBy(m.fetches, () => 1);
}

/** Bytes of the blocks won on the fetch board, per peer. */
export function fetchynessBytes(m: PeerMetrics): Map<Peer, number> {
  return countBy(m.fetches, (e) => e.bytes);
}

/** The slot at which each peer joined the metrics. */
export function joinedAt(m: PeerMetrics): Map<Peer, Slot> {
  return new Map([...m.registry].map(([p, r]) => [p, r.joined]));
}

/** Block-fetch mode, shared by the hot-demotion policy and the churn regimes. */
export type FetchMode = 'deadline' | 'bulkSync';

/** The hot-demotion scores: (score, join slot) per peer known to the metrics. */
export interface MetricScores {
  score: Map<Peer, number>;
  joined: Map<Peer, Slot>;
}

/** Deadline mode scores by upstreamyness + fetchynessBlocks; bulk sync by fetched bytes (§2.7). */
export function metricScores(m: PeerMetrics, mode: FetchMode = 'deadline'): MetricScores {
  const score = new Map<Peer, number>();
  if (mode === 'deadline') {
    for (const [p, n] of upstreamyness(m)) score.set(p, n);
    for (const [p, n] of fetchynessBlocks(m)) score.set(p, (score.get(p) ?? 0) + n);
  } else {
    for (const [p, n] of fetchynessBytes(m)) score.set(p, n);
  }
  return { score, joined: joinedAt(m) };
}
