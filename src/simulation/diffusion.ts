/**
 * Header diffusion over the hot links (docs/simulation.md).
 *
 * A node's hot peers are its upstreams: it follows their chains, so a header crosses the link from a
 * hot peer to the node. A node forwards a header as soon as it first receives it, and every link
 * has a fixed delay, so the first arrival time of a header at every node is the shortest path from
 * the producer over the hot-link graph: one Dijkstra per block gives exactly what simulating every
 * message would, and the shortest-path predecessor is the hot peer that delivered first (the
 * header board's winner). The header from hot peer p reaches node v at arrival(p) + delay(p, v).
 */

export class HotGraph {
  readonly n: number;
  /** Upstreams (hot peers) of node v: `up[v * maxHot + k]` for k < `count[v]`, with their link delays. */
  readonly up: Int32Array;
  readonly upDelay: Float64Array;
  readonly count: Int32Array;
  readonly maxHot: number;
  // Downstream adjacency (compressed rows), rebuilt lazily after a change of hot sets.
  private start: Int32Array;
  private to: Int32Array;
  private toDelay: Float64Array;
  private from: Int32Array;
  private dirty = true;
  // Dijkstra's priority queue over node indices, keyed by path length (an algorithm's work queue,
  // not an event queue: the simulation's events run on src/sim's Scheduler).
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;

  constructor(n: number, maxHot: number) {
    this.n = n;
    this.maxHot = maxHot;
    this.up = new Int32Array(n * maxHot);
    this.upDelay = new Float64Array(n * maxHot);
    this.count = new Int32Array(n);
    this.start = new Int32Array(n + 1);
    this.to = new Int32Array(n * maxHot);
    this.toDelay = new Float64Array(n * maxHot);
    this.from = new Int32Array(n * maxHot);
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n);
  }

  /** Replaces node `v`'s hot peers (at most `maxHot`). */
  setHot(v: number, peers: readonly number[], delays: readonly number[]): void {
    const k = Math.min(peers.length, this.maxHot);
    const base = v * this.maxHot;
    for (let i = 0; i < k; i++) {
      this.up[base + i] = peers[i] as number;
      this.upDelay[base + i] = delays[i] as number;
    }
    this.count[v] = k;
    this.dirty = true;
  }

  hotOf(v: number): number[] {
    const out: number[] = [];
    const base = v * this.maxHot;
    for (let i = 0; i < (this.count[v] as number); i++) out.push(this.up[base + i] as number);
    return out;
  }

  private rebuild(): void {
    const { n, maxHot, up, upDelay, count } = this;
    const start = this.start;
    start.fill(0);
    for (let v = 0; v < n; v++) {
      const base = v * maxHot;
      for (let i = 0; i < (count[v] as number); i++) {
        const u = up[base + i] as number;
        start[u + 1] = (start[u + 1] as number) + 1;
      }
    }
    for (let u = 0; u < n; u++) start[u + 1] = (start[u + 1] as number) + (start[u] as number);
    const fill = this.pos; // scratch: next free slot per upstream
    for (let u = 0; u < n; u++) fill[u] = start[u] as number;
    for (let v = 0; v < n; v++) {
      const base = v * maxHot;
      for (let i = 0; i < (count[v] as number); i++) {
        const u = up[base + i] as number;
        const at = fill[u] as number;
        fill[u] = at + 1;
        this.to[at] = v;
        this.toDelay[at] = upDelay[base + i] as number;
        this.from[at] = i;
      }
    }
    this.dirty = false;
  }

  /**
   * First arrival of a header minted at `source` (time 0) at every node (`Infinity` when the node
   * is not reached), and the index (into the node's hot list) of the hot peer that delivered it
   * first (-1 for the source and unreached nodes). Returns how many nodes were reached.
   */
  diffuse(source: number, arrival: Float64Array, winner: Int32Array): number {
    if (this.dirty) this.rebuild();
    const { heap, pos, start, to, toDelay, from } = this;
    arrival.fill(Number.POSITIVE_INFINITY);
    winner.fill(-1);
    pos.fill(-1);
    let size = 0;
    const up = (i0: number) => {
      let i = i0;
      const v = heap[i] as number;
      const key = arrival[v] as number;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pv = heap[p] as number;
        if ((arrival[pv] as number) <= key) break;
        heap[i] = pv;
        pos[pv] = i;
        i = p;
      }
      heap[i] = v;
      pos[v] = i;
    };
    arrival[source] = 0;
    heap[0] = source;
    pos[source] = 0;
    size = 1;
    let reached = 0;
    while (size > 0) {
      const u = heap[0] as number;
      size--;
      pos[u] = -2; // settled
      if (size > 0) {
        // Sift the last element down from the root.
        const last = heap[size] as number;
        const key = arrival[last] as number;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= size) break;
          const r = l + 1;
          let c = l;
          if (r < size && (arrival[heap[r] as number] as number) < (arrival[heap[l] as number] as number)) c = r;
          const cv = heap[c] as number;
          if ((arrival[cv] as number) >= key) break;
          heap[i] = cv;
          pos[cv] = i;
          i = c;
        }
        heap[i] = last;
        pos[last] = i;
      }
      reached++;
      const au = arrival[u] as number;
      for (let e = start[u] as number; e < (start[u + 1] as number); e++) {
        const v = to[e] as number;
        const pv = pos[v] as number;
        if (pv === -2) continue;
        const t = au + (toDelay[e] as number);
        if (t < (arrival[v] as number)) {
          arrival[v] = t;
          winner[v] = from[e] as number;
          if (pv === -1) {
            heap[size] = v;
            pos[v] = size;
            size++;
            up(size - 1);
          } else up(pv);
        }
      }
    }
    return reached;
  }
}

/** The k-th smallest value (0-based) of `values[0..len)`, reordering `scratch` (a copy is made into it). */
export function kthSmallest(values: Float64Array, k: number, scratch: Float64Array): number {
  const len = values.length;
  scratch.set(values);
  let lo = 0;
  let hi = len - 1;
  while (hi > lo) {
    // Median of three as the pivot.
    const mid = (lo + hi) >>> 1;
    const a = scratch[lo] as number;
    const b = scratch[mid] as number;
    const c = scratch[hi] as number;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((scratch[i] as number) < pivot) i++;
      while ((scratch[j] as number) > pivot) j--;
      if (i <= j) {
        const t = scratch[i] as number;
        scratch[i] = scratch[j] as number;
        scratch[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return scratch[k] as number;
  }
  return scratch[k] as number;
}

/** The time by which `share` of all nodes had the header (`Infinity` when fewer were reached). */
export function timeToShare(arrival: Float64Array, share: number, scratch: Float64Array): number {
  const k = Math.max(0, Math.ceil(share * arrival.length) - 1);
  return kthSmallest(arrival, k, scratch);
}
