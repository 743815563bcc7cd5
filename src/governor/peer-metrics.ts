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
 * The boards are updated in place and keep per-peer counts as they change, so recording a header
 * or reading a peer's score costs O(log 180), not a copy of the boards (a 10,000-node simulation
 * records a header per hot peer per block). The update functions return the same object, so code
 * written as `m = addHeaderMetric(m, ...)` reads the same either way.
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

/** One board entry; a header board's entries carry `bytes` 0 (one shape for both boards). */
interface Entry {
  peer: Peer;
  time: Time;
  bytes: number;
}

/** A slot-indexed board of at most `max` entries, with the winners' counts kept up to date. */
class Board {
  readonly entries = new Map<Slot, Entry>();
  /**
   * The slots on the board, ascending, from `head` on (appends are the common case: a push; the
   * oldest leave by moving `head`, the array is compacted now and then instead of shifted).
   */
  private slots: Slot[] = [];
  private head = 0;
  /** Slots won per peer, and (for a weighted board) the summed weight of the won entries. */
  readonly wins = new Map<Peer, number>();
  readonly weight = new Map<Peer, number>();

  constructor(
    private readonly max: number,
    /** Whether the board sums the won entries' bytes (`weight`), or only counts wins. */
    private readonly weighted: boolean,
  ) {}

  private get size(): number {
    return this.slots.length - this.head;
  }

  /**
   * The board insert rule: a new slot inserts (dropping the oldest beyond the limit, or ignoring
   * the entry if it is itself older than a full board); an existing slot is replaced only by an
   * earlier time. The entry object is made only when it is kept.
   */
  insert(slot: Slot, peer: Peer, time: Time, bytes: number): void {
    const existing = this.entries.get(slot);
    if (existing) {
      if (time >= existing.time) return;
      const entry: Entry = { peer, time, bytes };
      this.entries.set(slot, entry);
      this.count(existing, -1);
      this.count(entry, 1);
      return;
    }
    const slots = this.slots;
    const head = this.head;
    if (this.size >= this.max && this.size > 0 && slot < (slots[head] as Slot)) return;
    const end = slots.length;
    if (end === head || (slots[end - 1] as Slot) < slot) slots.push(slot);
    else {
      let lo = head;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((slots[mid] as Slot) < slot) lo = mid + 1;
        else hi = mid;
      }
      slots.splice(lo, 0, slot);
    }
    const entry: Entry = { peer, time, bytes };
    this.entries.set(slot, entry);
    this.count(entry, 1);
    while (this.size > this.max) {
      const oldest = slots[this.head] as Slot;
      this.head++;
      const gone = this.entries.get(oldest) as Entry;
      this.entries.delete(oldest);
      this.count(gone, -1);
    }
    if (this.head >= 1024 && this.head * 2 >= slots.length) {
      this.slots = slots.slice(this.head);
      this.head = 0;
    }
  }

  private count(e: Entry, sign: 1 | -1): void {
    const n = (this.wins.get(e.peer) ?? 0) + sign;
    if (n === 0) this.wins.delete(e.peer);
    else this.wins.set(e.peer, n);
    if (!this.weighted) return;
    const w = (this.weight.get(e.peer) ?? 0) + sign * e.bytes;
    if (n === 0) this.weight.delete(e.peer);
    else this.weight.set(e.peer, w);
  }
}

export interface PeerMetrics {
  readonly maxEntries: number;
  readonly headers: ReadonlyMap<Slot, HeaderEntry>;
  readonly fetches: ReadonlyMap<Slot, FetchEntry>;
  readonly registry: ReadonlyMap<Peer, Registered>;
}

class Metrics implements PeerMetrics {
  readonly headerBoard: Board;
  readonly fetchBoard: Board;
  readonly registry = new Map<Peer, Registered>();
  constructor(readonly maxEntries: number) {
    this.headerBoard = new Board(maxEntries, false);
    this.fetchBoard = new Board(maxEntries, true);
  }
  get headers(): ReadonlyMap<Slot, HeaderEntry> {
    return this.headerBoard.entries;
  }
  get fetches(): ReadonlyMap<Slot, FetchEntry> {
    return this.fetchBoard.entries;
  }
  /** A peer unseen for a whole window joins again as new. */
  register(peer: Peer, slot: Slot): void {
    const r = this.registry.get(peer);
    if (!r || r.lastSeen < slot - this.maxEntries) this.registry.set(peer, { joined: slot, lastSeen: slot });
    else if (slot > r.lastSeen) r.lastSeen = slot;
  }
}

function inner(m: PeerMetrics): Metrics {
  if (!(m instanceof Metrics)) throw new TypeError('peer metrics must come from emptyMetrics()');
  return m;
}

export function emptyMetrics(maxEntries = MAX_ENTRIES_TO_TRACK): PeerMetrics {
  return new Metrics(maxEntries);
}

/** Records that `peer` delivered a valid header for `slot` at `time` (updates `m`, returns it). */
export function addHeaderMetric(m: PeerMetrics, slot: Slot, peer: Peer, time: Time): PeerMetrics {
  const x = inner(m);
  x.headerBoard.insert(slot, peer, time, 0);
  x.register(peer, slot);
  return x;
}

/** Records that `peer` delivered the block of `slot` (`bytes` long) at `time` (updates `m`, returns it). */
export function addFetchMetric(m: PeerMetrics, slot: Slot, peer: Peer, bytes: number, time: Time): PeerMetrics {
  const x = inner(m);
  x.fetchBoard.insert(slot, peer, time, bytes);
  x.register(peer, slot);
  return x;
}

/**
 * Records that `peer` took part in `slot` without a delivery to put on a board (a shell that knows
 * an arrival lost the slot need not build the entry): the peer's join slot is kept as by
 * `addHeaderMetric`.
 */
export function notePeer(m: PeerMetrics, slot: Slot, peer: Peer): PeerMetrics {
  const x = inner(m);
  x.register(peer, slot);
  return x;
}

/** Slots won on the header board, per peer (a copy). */
export function upstreamyness(m: PeerMetrics): Map<Peer, number> {
  return new Map(inner(m).headerBoard.wins);
}

/** Slots won on the fetch board, per peer (a copy). */
export function fetchynessBlocks(m: PeerMetrics): Map<Peer, number> {
  return new Map(inner(m).fetchBoard.wins);
}

/** Bytes of the blocks won on the fetch board, per peer (a copy). */
export function fetchynessBytes(m: PeerMetrics): Map<Peer, number> {
  return new Map(inner(m).fetchBoard.weight);
}

/** The slot at which each peer joined the metrics. */
export function joinedAt(m: PeerMetrics): Map<Peer, Slot> {
  return new Map([...m.registry].map(([p, r]) => [p, r.joined]));
}

/** Block-fetch mode, shared by the hot-demotion policy and the churn regimes. */
export type FetchMode = 'deadline' | 'bulkSync';

/** What the hot-demotion policy reads: a peer's score and join slot (a `Map` will do). */
export interface ScoreLookup<V> {
  get(peer: Peer): V | undefined;
}

/** The hot-demotion scores: (score, join slot) per peer known to the metrics. */
export interface MetricScores {
  score: ScoreLookup<number>;
  joined: ScoreLookup<Slot>;
}

/**
 * Deadline mode scores by upstreamyness + fetchynessBlocks; bulk sync by fetched bytes (§2.7).
 * A live view of the metrics (no copy): read it before the metrics change again.
 */
export function metricScores(m: PeerMetrics, mode: FetchMode = 'deadline'): MetricScores {
  const x = inner(m);
  const up = x.headerBoard.wins;
  const blocks = x.fetchBoard.wins;
  const bytes = x.fetchBoard.weight;
  const score: ScoreLookup<number> =
    mode === 'deadline'
      ? {
          get: (p) => {
            const a = up.get(p);
            const b = blocks.get(p);
            return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
          },
        }
      : bytes;
  return { score, joined: { get: (p) => x.registry.get(p)?.joined } };
}
