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

/** Entries dropped from the front before the board's arrays are compacted. */
const COMPACT_AFTER = 64;

/** A slot-indexed board of at most `max` entries, with the winners' counts kept up to date. */
class Board {
  /**
   * The entries, ascending by slot, from `head` on, in parallel arrays (no object per entry: a
   * simulator inserts one per node per block). Appends are the common case: a push; the oldest leave
   * by moving `head`, and the arrays are compacted now and then instead of shifted.
   */
  private slots: Slot[] = [];
  private peers: Peer[] = [];
  private times: Time[] = [];
  private bytes: number[] = [];
  private head = 0;
  /** The entries as a map (`entries`), made when asked for and kept until the board changes. */
  private view: Map<Slot, Entry> | undefined;
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

  /** The entries by slot, ascending (a view made on demand: the same object while nothing changes). */
  get entries(): ReadonlyMap<Slot, Entry> {
    if (!this.view) {
      const m = new Map<Slot, Entry>();
      for (let i = this.head; i < this.slots.length; i++)
        m.set(this.slots[i] as Slot, {
          peer: this.peers[i] as Peer,
          time: this.times[i] as Time,
          bytes: this.bytes[i] as number,
        });
      this.view = m;
    }
    return this.view;
  }

  /**
   * The board insert rule: a new slot inserts (dropping the oldest beyond the limit, or ignoring
   * the entry if it is itself older than a full board); an existing slot is replaced only by an
   * earlier time.
   */
  insert(slot: Slot, peer: Peer, time: Time, bytes: number): void {
    const slots = this.slots;
    const head = this.head;
    const end = slots.length;
    let at = end;
    if (end !== head && (slots[end - 1] as Slot) >= slot) {
      let lo = head;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((slots[mid] as Slot) < slot) lo = mid + 1;
        else hi = mid;
      }
      at = lo;
      if (at < end && slots[at] === slot) {
        if (time >= (this.times[at] as Time)) return;
        this.view = undefined;
        this.count(this.peers[at] as Peer, this.bytes[at] as number, -1);
        this.peers[at] = peer;
        this.times[at] = time;
        this.bytes[at] = bytes;
        this.count(peer, bytes, 1);
        return;
      }
      if (this.size >= this.max && this.size > 0 && slot < (slots[head] as Slot)) return;
    }
    this.view = undefined;
    if (at === end) {
      slots.push(slot);
      this.peers.push(peer);
      this.times.push(time);
      this.bytes.push(bytes);
    } else {
      slots.splice(at, 0, slot);
      this.peers.splice(at, 0, peer);
      this.times.splice(at, 0, time);
      this.bytes.splice(at, 0, bytes);
    }
    this.count(peer, bytes, 1);
    while (this.size > this.max) {
      const i = this.head;
      this.head++;
      this.count(this.peers[i] as Peer, this.bytes[i] as number, -1);
    }
    if (this.head >= COMPACT_AFTER && this.head * 4 >= this.slots.length) {
      // Compacted in place: the arrays keep their capacity, so appends after it allocate nothing
      // (copies made with slice, and the arrays growing again up to the next compaction, were
      // about a megabyte a simulated day for one node's two boards).
      // One plain loop per array (copyWithin boxed every time it moved).
      const h = this.head;
      const n = this.slots.length - h;
      const { slots: sl, peers: pe, times: ti, bytes: by } = this;
      for (let i = 0; i < n; i++) sl[i] = sl[i + h] as Slot;
      for (let i = 0; i < n; i++) pe[i] = pe[i + h] as Peer;
      for (let i = 0; i < n; i++) ti[i] = ti[i + h] as Time;
      for (let i = 0; i < n; i++) by[i] = by[i + h] as number;
      sl.length = n;
      pe.length = n;
      ti.length = n;
      by.length = n;
      this.head = 0;
    }
  }

  private count(peer: Peer, bytes: number, sign: 1 | -1): void {
    const n = (this.wins.get(peer) ?? 0) + sign;
    if (n === 0) this.wins.delete(peer);
    else this.wins.set(peer, n);
    if (!this.weighted) return;
    const w = (this.weight.get(peer) ?? 0) + sign * bytes;
    if (n === 0) this.weight.delete(peer);
    else this.weight.set(peer, w);
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

/** `notePeer` for each of `peers` in turn. */
export function notePeers(m: PeerMetrics, slot: Slot, peers: Iterable<Peer>): PeerMetrics {
  const x = inner(m);
  for (const p of peers) x.register(p, slot);
  return x;
}

/**
 * Records a run of slots in which the same `peers` all delivered the header: for each
 * `j < length` in turn, `peers[winners[j]]` delivered first, at `times[j]`, and every other peer
 * took part. The result is exactly that of calling, for each j, `addHeaderMetric(m, slots[j],
 * peers[winners[j]], times[j])` and then `notePeer(m, slots[j], p)` for every other p; `slots` must
 * be ascending. Each slot still goes on the header board, but a peer's join slot is worked out
 * once for the run instead of once per slot: within ascending slots it is reset only after a gap of
 * more than a window, and the gaps are the same for every peer (a simulator with thousands of
 * nodes, each noting all its hot peers for every block, spent most of its time here).
 */
export function addHeaderRun(
  m: PeerMetrics,
  peers: readonly Peer[],
  slots: ArrayLike<Slot>,
  winners: ArrayLike<number>,
  times: ArrayLike<Time>,
  length: number,
): PeerMetrics {
  const x = inner(m);
  if (length <= 0) return x;
  for (let j = 0; j < length; j++)
    x.headerBoard.insert(slots[j] as Slot, peers[winners[j] as number] as Peer, times[j] as Time, 0);
  const first = slots[0] as Slot;
  const last = slots[length - 1] as Slot;
  // The last slot before which the run has a gap of more than a window: the join slot of every
  // peer seen without interruption up to it.
  let lastGap = -1;
  for (let j = 1; j < length; j++) if ((slots[j - 1] as Slot) < (slots[j] as Slot) - x.maxEntries) lastGap = j;
  // The first slot's winner registers first (new peers enter the registry in the same order).
  x.register(peers[winners[0] as number] as Peer, first);
  for (const p of peers) {
    x.register(p, first);
    const r = x.registry.get(p) as Registered;
    if (r.lastSeen > first) {
      // Seen after this run's first slot already (slots out of order): one slot at a time.
      for (let j = 1; j < length; j++) x.register(p, slots[j] as Slot);
    } else if (lastGap >= 0) x.registry.set(p, { joined: slots[lastGap] as Slot, lastSeen: last });
    else if (last > r.lastSeen) r.lastSeen = last;
  }
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
