/**
 * `spo simulate` as a library: the policies side by side on one world, round by round
 * (docs/simulation.md). Pure: no timers, clock or global randomness; every random draw comes from the
 * seed. `simulate(options)` is a generator yielding one progress report per policy and round, so a
 * shell can render as it goes; its return value is the whole result.
 */
import type { Rng } from '../governor/rng.js';
import type { Peer, Targets } from '../governor/types.js';
import { round3 } from '../lib/round.js';
import { Scheduler } from '../sim/scheduler.js';
import { ChurningNode, type HotChange, type HotDecisionRecord } from './churning-node.js';
import { HotGraph, timeToShare } from './diffusion.js';
import { REGIONS } from './geo.js';
import { buildWorld, delay, drawOthers, ROUND_MS, SLOT_MS, type World, worldRngs } from './world.js';

export type PolicyName = 'node' | 'no-churn' | 'oracle';
export const POLICY_NAMES: readonly PolicyName[] = ['node', 'no-churn', 'oracle'];

/** The design's deadline: a block should reach 95 % of nodes within 5 s (governor.md §13). */
export const DEADLINE_MS = 5_000;
/** The share of nodes a block must reach: the metric is the time until 95 % of nodes have the header. */
export const REACH_SHARE = 0.95;
/** Diffusion curves: the share of nodes reached at 0, 50, 100, ... ms. */
export const CURVE_STEP_MS = 50;
export const CURVE_POINTS = 101;
/** "Settled": this round's and every later round's p95 within this fraction of the steady state's. */
export const SETTLE_TOLERANCE = 0.1;

export interface SimulationOptions {
  nodes: number;
  rounds: number;
  policies: readonly PolicyName[];
  hot: number;
  seed: number;
  processingMs?: number;
  /** Called for every churn cycle that changed a node's hot set (node policy; tests). */
  onHotChange?: ((c: HotChange) => void) | undefined;
  /** Called for every hot-peer decision of the node policy, with what it saw (divergence test). */
  onDecision?: ((r: HotDecisionRecord) => void) | undefined;
}

/** Figures of one round of one policy (docs/json.md). */
export interface RoundFigures {
  round: number;
  blocks: number;
  /** Percentiles over the round's blocks of each block's time to reach 95 % of nodes (null: never reached). */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  /** Share of the round's blocks that reached 95 % of nodes within 5 s. */
  withinDeadline: number;
  /** Blocks that never reached 95 % of nodes (the overlay was split). */
  unreachedBlocks: number;
  /** Node-churn cycles that changed a hot set in this round (0 for the policies without churn). */
  hotChanges: number;
  /** Mean share of nodes having a block's header at 0, 50, 100, ... ms after its slot. */
  curve: number[];
}

export interface Summary {
  fromRound: number;
  blocks: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  withinDeadline: number;
}

export interface PolicyResult {
  policy: PolicyName | 'floor';
  rounds: RoundFigures[];
  /** Over the last third of the rounds (at least one). */
  steady: Summary;
  /** First round from which every round's p95 stays within 10 % of the steady state's (null: never). */
  settledAtRound: number | null;
}

export interface SimulationResult {
  nodes: number;
  rounds: number;
  hot: number;
  seed: number;
  processingMs: number;
  roundMs: number;
  blocks: number;
  targets: { known: number; established: number; active: number };
  regions: Array<{ name: string; nodes: number }>;
  policies: PolicyResult[];
  /** The direct-link lower bound: every node hears the producer over one direct link. */
  floor: PolicyResult;
}

export interface RoundProgress {
  policy: PolicyName | 'floor';
  round: number;
  rounds: number;
  figures: RoundFigures;
}

/** Percentile by the nearest-rank rule over sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

function summarise(t95: Float64Array): Omit<Summary, 'fromRound'> {
  const sorted = Float64Array.from(t95).sort();
  let within = 0;
  for (const t of sorted) if (t <= DEADLINE_MS) within++;
  return {
    blocks: sorted.length,
    p50Ms: finiteOrNull(percentile(sorted, 0.5)),
    p95Ms: finiteOrNull(percentile(sorted, 0.95)),
    p99Ms: finiteOrNull(percentile(sorted, 0.99)),
    withinDeadline: sorted.length === 0 ? 0 : round3(within / sorted.length),
  };
}

/** Block index ranges per round. */
function roundRanges(world: World): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const slots = world.blocks.slot;
  let i = 0;
  for (let r = 0; r < world.rounds; r++) {
    const end = ((r + 1) * ROUND_MS) / SLOT_MS;
    const from = i;
    while (i < slots.length && (slots[i] as number) < end) i++;
    out.push([from, i]);
  }
  return out;
}

/** Per-round accumulation of one policy's blocks. */
class RoundStats {
  readonly t95: number[] = [];
  readonly curveCounts = new Float64Array(CURVE_POINTS);
  unreached = 0;
  hotChanges = 0;

  add(arrival: Float64Array, scratch: Float64Array): number {
    const t = timeToShare(arrival, REACH_SHARE, scratch);
    this.t95.push(t);
    if (!Number.isFinite(t)) this.unreached++;
    const counts = this.curveCounts;
    for (let v = 0; v < arrival.length; v++) {
      const a = arrival[v] as number;
      if (!Number.isFinite(a)) continue;
      const bin = Math.ceil(a / CURVE_STEP_MS);
      if (bin < CURVE_POINTS) counts[bin] = (counts[bin] as number) + 1;
    }
    return t;
  }

  figures(round: number, n: number): RoundFigures {
    const s = summarise(Float64Array.from(this.t95));
    let sum = 0;
    let finite = 0;
    for (const t of this.t95)
      if (Number.isFinite(t)) {
        sum += t;
        finite++;
      }
    const curve: number[] = [];
    let acc = 0;
    const denom = Math.max(1, this.t95.length * n);
    for (let b = 0; b < CURVE_POINTS; b++) {
      acc += this.curveCounts[b] as number;
      curve.push(round3(acc / denom)); // three decimals, as every figure in --json
    }
    return {
      round,
      blocks: s.blocks,
      p50Ms: s.p50Ms,
      p95Ms: s.p95Ms,
      p99Ms: s.p99Ms,
      meanMs: finite === this.t95.length && finite > 0 ? Math.round((sum / finite) * 10) / 10 : null,
      withinDeadline: s.withinDeadline,
      unreachedBlocks: this.unreached,
      hotChanges: this.hotChanges,
      curve,
    };
  }
}

/** One policy's overlay over the shared world. */
class PolicyRun {
  readonly graph: HotGraph;
  readonly scheduler = new Scheduler(0);
  readonly nodes: ChurningNode[] = [];
  readonly t95All: number[] = [];
  private readonly arrival: Float64Array;
  private readonly winner: Int32Array;
  private readonly scratch: Float64Array;
  private stats = new RoundStats();
  /**
   * Oracle: every block's arrival times in the current round, by node (`roundArrivals[c * blocks +
   * b]`: node c's arrival of the round's block b, a node's blocks side by side for the rewiring's
   * scan), and each block's producer.
   */
  private roundArrivals = new Float64Array(0);
  private roundBlocks = 0;
  private roundProducers: number[] = [];
  /**
   * Node policy: blocks that reached every node, whose header metrics are not recorded yet. In such
   * a block every node but the producer heard the header from all its hot peers, so a node's blocks
   * can be recorded in one run (`ChurningNode.recordRun`) when it next reads its metrics (a churn
   * step) or when the buffer is full, instead of one metric update per hot peer per node per block.
   */
  private readonly pending: PendingBlock[] = [];
  /** Per node: the pending blocks already recorded (a prefix). */
  private pendingDone: Int32Array = new Int32Array(0);
  private readonly spare: PendingBlock[] = [];
  private readonly run = {
    slots: new Int32Array(PENDING_BLOCKS),
    winners: new Int32Array(PENDING_BLOCKS),
    times: new Float64Array(PENDING_BLOCKS),
  };

  constructor(
    readonly world: World,
    readonly policy: PolicyName,
    private readonly options: SimulationOptions,
  ) {
    const n = world.n;
    this.graph = new HotGraph(n, world.targets.active);
    this.arrival = new Float64Array(n);
    this.winner = new Int32Array(n);
    this.scratch = new Float64Array(n);
    for (let v = 0; v < n; v++) this.setHot(v, world.overlay.hot[v] as readonly number[]);
    if (policy === 'node') this.startNodes();
  }

  private setHot(v: number, peers: readonly number[]): void {
    this.graph.setHot(
      v,
      peers,
      peers.map((u) => delay(this.world, u, v)),
    );
  }

  private startNodes(): void {
    const { world } = this;
    this.pendingDone = new Int32Array(world.n);
    const rngs = worldRngs(world.seed);
    const refillRng: Rng = rngs.refill;
    const base: Targets = {
      root: world.targets.root,
      known: world.targets.known,
      established: world.targets.established,
      active: world.targets.active,
      knownBigLedger: 0,
      establishedBigLedger: 0,
      activeBigLedger: 0,
    };
    const names = world.names;
    const churnWorld = {
      refill: (node: number, exclude: ReadonlySet<Peer>, count: number): Peer[] => {
        const ex = new Set<number>();
        for (const p of exclude) ex.add(world.index.get(p) as number);
        return drawOthers(world.n, node, count, ex, refillRng).map((j) => names[j] as Peer);
      },
      onDecision: this.options.onDecision,
    };
    for (let v = 0; v < world.n; v++) {
      const toNames = (xs: readonly number[]) => xs.map((j) => names[j] as Peer);
      const node = new ChurningNode(
        v,
        base,
        rngs.governor.split(),
        toNames(world.overlay.known[v] as number[]),
        toNames(world.overlay.established[v] as number[]),
        toNames(world.overlay.hot[v] as number[]),
      );
      this.nodes.push(node);
      const churn = () => {
        this.recordPending(v);
        const { wakeupAt, change } = node.runChurn(this.scheduler.now(), churnWorld);
        if (change) {
          this.setHot(
            v,
            node.hot.map((p) => world.index.get(p) as number),
          );
          this.stats.hotChanges++;
          this.options.onHotChange?.(change);
        }
        this.scheduler.at(wakeupAt, churn);
      };
      this.scheduler.at(0, churn);
    }
  }

  /**
   * Oracle (docs/simulation.md): the upstream metric with perfect information and no churn limit.
   * At the start of each round every node keeps the first `random` peers of its initial random hot
   * set (the share the node's churn replaces at random each cycle: max(1, ⌊active/5⌋)) and fills the
   * other hot slots with the known peers that *would have delivered first* most often over the
   * previous round's blocks, had every known peer been hot: for each block, the known peer with the
   * lowest true arrival + true link delay wins it. Ties: more wins, then lower mean delivery time,
   * then known order.
   */
  private rewireOracle(): void {
    const { world } = this;
    const n = world.n;
    const active = world.targets.active;
    const random = Math.min(active, Math.max(1, Math.floor(active / 5)));
    const blocks = this.roundBlocks;
    const arrivals = this.roundArrivals;
    // Per block: the best candidate so far and its time. Blocks the node produced itself are
    // skipped: the scan runs over the stretches between them (`ends`, usually one stretch).
    const bestT = new Float64Array(blocks);
    const best = new Int32Array(blocks);
    const starts: number[] = [];
    const ends: number[] = [];
    for (let v = 0; v < n; v++) {
      const kept = (world.overlay.hot[v] as readonly number[]).slice(0, random);
      const keep = new Set(kept);
      const candidates = (world.overlay.known[v] as readonly number[]).filter((c) => !keep.has(c));
      const wins = new Float64Array(candidates.length);
      const sum = new Float64Array(candidates.length);
      starts.length = 0;
      ends.length = 0;
      let from = 0;
      for (let b = 0; b <= blocks; b++) {
        if (b < blocks && this.roundProducers[b] !== v) continue;
        if (b > from) {
          starts.push(from);
          ends.push(b);
        }
        from = b + 1;
      }
      bestT.fill(Number.POSITIVE_INFINITY);
      best.fill(-1);
      // Candidate by candidate over the blocks (the same sums, in the same order, and the same
      // winner per block: the first candidate with the lowest time, as block by block).
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i] as number;
        const d = delay(world, c, v);
        const row = c * blocks;
        let acc = 0;
        for (let k = 0; k < starts.length; k++) {
          const end = ends[k] as number;
          for (let b = starts[k] as number; b < end; b++) {
            const t = (arrivals[row + b] as number) + d;
            acc += t === Number.POSITIVE_INFINITY ? ROUND_MS : t;
            if (t < (bestT[b] as number)) {
              bestT[b] = t;
              best[b] = i;
            }
          }
        }
        sum[i] = acc;
      }
      // Blocks the node produced kept best -1.
      for (let b = 0; b < blocks; b++) {
        const w = best[b] as number;
        if (w >= 0) wins[w] = (wins[w] as number) + 1;
      }
      const order = candidates.map((_c, i) => i);
      order.sort(
        (x, y) => (wins[y] as number) - (wins[x] as number) || (sum[x] as number) - (sum[y] as number) || x - y,
      );
      this.setHot(v, [...kept, ...order.slice(0, active - kept.length).map((i) => candidates[i] as number)]);
    }
  }

  runRound(round: number, range: [number, number]): RoundFigures {
    const { world } = this;
    if (this.policy === 'oracle' && round > 0) this.rewireOracle();
    const [from, to] = range;
    if (this.policy === 'oracle') {
      this.roundBlocks = to - from;
      if (this.roundArrivals.length < world.n * this.roundBlocks)
        this.roundArrivals = new Float64Array(world.n * this.roundBlocks);
      this.roundProducers = [];
    }
    for (let b = from; b < to; b++) {
      const slot = world.blocks.slot[b] as number;
      const producer = world.blocks.producer[b] as number;
      const at = slot * SLOT_MS;
      this.scheduler.run({ until: at });
      const reached = this.graph.diffuse(producer, this.arrival, this.winner);
      const t = this.stats.add(this.arrival, this.scratch);
      this.t95All.push(t);
      if (this.policy === 'node') this.recordMetrics(slot, at, producer, reached);
      if (this.policy === 'oracle') {
        const arrivals = this.roundArrivals;
        const blocks = this.roundBlocks;
        const arrival = this.arrival;
        for (let c = 0, i = b - from; c < world.n; c++, i += blocks) arrivals[i] = arrival[c] as number;
        this.roundProducers.push(producer);
      }
    }
    // Churn due before the round's end runs now, so its changes count in this round.
    this.scheduler.run({ until: (round + 1) * ROUND_MS - 1 });
    const figures = this.stats.figures(round, world.n);
    this.stats = new RoundStats();
    return figures;
  }

  /** Records node `v`'s pending blocks in its metrics (before its hot peers change or are read). */
  private recordPending(v: number): void {
    const pending = this.pending;
    const done = this.pendingDone[v] as number;
    if (done >= pending.length) return;
    const { slots, winners, times } = this.run;
    let len = 0;
    for (let b = done; b < pending.length; b++) {
      const p = pending[b] as PendingBlock;
      if (p.producer === v) continue; // the producer hears its own block from nobody
      slots[len] = p.slot;
      winners[len] = p.winner[v] as number;
      times[len] = p.at + (p.arrival[v] as number);
      len++;
    }
    this.pendingDone[v] = pending.length;
    if (len > 0) (this.nodes[v] as ChurningNode).recordRun(this.graph.count[v] as number, slots, winners, times, len);
  }

  /** Every node records its pending blocks; the buffer is emptied. */
  private recordAllPending(): void {
    if (this.pending.length === 0) return;
    for (let v = 0; v < this.world.n; v++) this.recordPending(v);
    for (const p of this.pending) this.spare.push(p);
    this.pending.length = 0;
    this.pendingDone.fill(0);
  }

  /** Every hot peer of every node delivered the header: the first one wins the slot on the header board. */
  private recordMetrics(slot: number, at: number, producer: number, reached: number): void {
    const { graph, arrival, winner } = this;
    if (reached === this.world.n) {
      // Every node reached: recorded later, in a run per node (see `pending`).
      const p = this.spare.pop() ?? {
        slot: 0,
        at: 0,
        producer: 0,
        arrival: new Float64Array(this.world.n),
        winner: new Int32Array(this.world.n),
      };
      p.slot = slot;
      p.at = at;
      p.producer = producer;
      p.arrival.set(arrival);
      p.winner.set(winner);
      this.pending.push(p);
      if (this.pending.length === PENDING_BLOCKS) this.recordAllPending();
      return;
    }
    // Some node missed the block: the earlier blocks first, then this one node by node, peer by peer.
    this.recordAllPending();
    const maxHot = graph.maxHot;
    for (let v = 0; v < this.world.n; v++) {
      if (v === producer) continue;
      const a = arrival[v] as number;
      if (!Number.isFinite(a)) continue;
      const node = this.nodes[v] as ChurningNode;
      const hot = node.hot;
      const w = winner[v] as number;
      node.recordHeader(slot, hot[w] as Peer, at + a);
      const base = v * maxHot;
      const count = graph.count[v] as number;
      for (let k = 0; k < count; k++) {
        if (k === w) continue;
        if (Number.isFinite(arrival[graph.up[base + k] as number] as number)) node.noteDelivery(slot, hot[k] as Peer);
      }
    }
  }
}

/** A block that reached every node, kept until every node's metrics record it. */
interface PendingBlock {
  slot: number;
  at: number;
  producer: number;
  arrival: Float64Array;
  winner: Int32Array;
}

/** Pending blocks kept at most (then every node records them). */
const PENDING_BLOCKS = 256;

function steadySummary(t95: readonly number[], ranges: Array<[number, number]>): Summary {
  const rounds = ranges.length;
  const fromRound = rounds - Math.max(1, Math.floor(rounds / 3));
  const start = (ranges[fromRound] as [number, number])[0];
  return { fromRound, ...summarise(Float64Array.from(t95.slice(start))) };
}

function settledAt(rounds: readonly RoundFigures[], steady: Summary): number | null {
  const target = steady.p95Ms;
  if (target === null) return null;
  let settled: number | null = null;
  for (let r = rounds.length - 1; r >= 0; r--) {
    const p = (rounds[r] as RoundFigures).p95Ms;
    if (p === null || Math.abs(p - target) > SETTLE_TOLERANCE * target) break;
    settled = r;
  }
  return settled;
}

/** The direct-link floor of one block: every node hears the producer over a direct link. */
function floorArrival(world: World, producer: number, out: Float64Array): void {
  for (let v = 0; v < world.n; v++) out[v] = v === producer ? 0 : delay(world, producer, v);
}

/**
 * Runs the simulation: yields each policy's figures after each round (policies interleaved, so a
 * shell can show them side by side as they come), returns the whole result.
 */
export function* simulate(options: SimulationOptions): Generator<RoundProgress, SimulationResult, void> {
  const world = buildWorld({
    nodes: options.nodes,
    rounds: options.rounds,
    hot: options.hot,
    seed: options.seed,
    ...(options.processingMs === undefined ? {} : { processingMs: options.processingMs }),
  });
  const ranges = roundRanges(world);
  const runs = options.policies.map((p) => new PolicyRun(world, p, options));
  const perPolicy: RoundFigures[][] = runs.map(() => []);
  const floorRounds: RoundFigures[] = [];
  const floorT95: number[] = [];
  const floorArr = new Float64Array(world.n);
  const scratch = new Float64Array(world.n);
  for (let r = 0; r < world.rounds; r++) {
    const range = ranges[r] as [number, number];
    const fs = new RoundStats();
    for (let b = range[0]; b < range[1]; b++) {
      floorArrival(world, world.blocks.producer[b] as number, floorArr);
      floorT95.push(fs.add(floorArr, scratch));
    }
    const floorFigures = fs.figures(r, world.n);
    floorRounds.push(floorFigures);
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i] as PolicyRun;
      const figures = run.runRound(r, range);
      (perPolicy[i] as RoundFigures[]).push(figures);
      yield { policy: run.policy, round: r, rounds: world.rounds, figures };
    }
  }
  const policies: PolicyResult[] = runs.map((run, i) => {
    const rounds = perPolicy[i] as RoundFigures[];
    const steady = steadySummary(run.t95All, ranges);
    return { policy: run.policy, rounds, steady, settledAtRound: settledAt(rounds, steady) };
  });
  const floorSteady = steadySummary(floorT95, ranges);
  const regionCounts = REGIONS.map((g) => ({ name: g.name, nodes: 0 }));
  for (let v = 0; v < world.n; v++) {
    const c = regionCounts[world.placement.region[v] as number];
    if (c) c.nodes++;
  }
  return {
    nodes: world.n,
    rounds: world.rounds,
    hot: world.targets.active,
    seed: world.seed,
    processingMs: world.processingMs,
    roundMs: ROUND_MS,
    blocks: world.blocks.slot.length,
    targets: { known: world.targets.known, established: world.targets.established, active: world.targets.active },
    regions: regionCounts,
    policies,
    floor: {
      policy: 'floor',
      rounds: floorRounds,
      steady: floorSteady,
      settledAtRound: settledAt(floorRounds, floorSteady),
    },
  };
}

/** Runs `simulate` to the end (tests, benchmarks). */
export function runSimulation(options: SimulationOptions): SimulationResult {
  const it = simulate(options);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
