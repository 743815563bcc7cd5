/**
 * What the testnet learns from its nodes' JSON lines (src/node/snapshot.ts): per node its latest
 * counters (hot/warm/cold) and whether it reached its targets; per block when it was minted and
 * when it first reached each node; churn cycles; and, at the end, the summary: diffusion p50/p95
 * per churn cycle and counters. Pure: lines and the time they were read come in as data.
 *
 * Times are the events' own wall-clock timestamps (`time`, ISO, millisecond resolution): the
 * nodes are processes on one machine, so their clocks agree, and the time a line took through a
 * pipe does not count.
 */
import type { PeerTargets } from '../lib/peer-targets.js';
import type { NodeEvent, NodeSnapshot } from '../node/snapshot.js';
import { percentile } from '../simulation/run.js';

/** A line of `spo run --json`. */
export type NodeLine = NodeEvent | NodeSnapshot;

/**
 * The churn step that opens the hot tier's part of a cycle (governor.md §4.3): one per node per
 * cycle, so counting it counts cycles.
 */
export const CYCLE_MARKER = 'DecreasedActivePeers';

export interface NodeView {
  index: number;
  pid: number | undefined;
  started: boolean;
  stopped: boolean;
  hot: number;
  warm: number;
  cold: number;
  /** Highest counts seen, peers in the middle of a demotion left out (targets must never be exceeded). */
  maxHot: number;
  maxWarmAndHot: number;
  maxKnown: number;
  /** Wall time (ms) of its `started` line. */
  startedAt: number | undefined;
  /**
   * Wall time (ms) of the first snapshot at or above all three targets at once (known, established,
   * active); undefined until then.
   */
  reachedTargetsAt: number | undefined;
  /** Wall time (ms) of the first snapshot at or above each target on its own. */
  reachedKnownAt: number | undefined;
  reachedEstablishedAt: number | undefined;
  reachedActiveAt: number | undefined;
  tipBlockNo: number | undefined;
  churnCycles: number;
  promotions: number;
  demotions: number;
  failures: number;
  headersReceived: number;
  headersMinted: number;
  warnings: number;
}

export interface BlockRecord {
  hash: string;
  blockNo: number;
  slot: number;
  /** Producer's node index (undefined until its `minted` line is read). */
  producer: number | undefined;
  mintedAt: number | undefined;
  /** First arrival per node index (wall ms); the producer's own is its mint time. */
  arrivals: Map<number, number>;
  /** The testnet's churn cycle when it was minted (see `cycleAt`). */
  cycle: number;
  /** Time from mint until the last node had it; undefined until every node has. */
  allReachedMs: number | undefined;
}

/** One event for the live view's log. */
export type TrackerNotice =
  | { kind: 'block'; block: BlockRecord }
  | { kind: 'churn'; node: number; action: string; count: number; cycle: number }
  | { kind: 'targets'; node: number }
  | { kind: 'warning'; node: number; code: string; message: string };

export interface CycleSummary {
  cycle: number;
  blocks: number;
  /** Blocks of the cycle that reached every node. */
  complete: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface TestnetSummary {
  nodes: number;
  producers: number;
  /** Blocks minted while the testnet ran (the ones counted). */
  blocks: number;
  /** Blocks that reached every node. */
  complete: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  perCycle: CycleSummary[];
  /** The targets every node runs with (root and big ledger targets left out). */
  targets: { known: number; established: number; active: number };
  /** Nodes that were at all three targets at once at some point. */
  nodesAtTargets: number;
  /** Nodes that reached each target at some point. */
  nodesAtKnownTarget: number;
  nodesAtEstablishedTarget: number;
  nodesAtActiveTarget: number;
  /** Per node (in order): ms from its start to its first moment at all three targets; null: never. */
  targetsReachedMs: Array<number | null>;
  /** Nodes whose counts ever went above a target. */
  nodesOverTargets: number;
  churnCycles: number;
  promotions: number;
  demotions: number;
  failures: number;
  warnings: number;
}

const ms = (iso: string): number => Date.parse(iso);
const round1 = (x: number): number => Math.round(x * 10) / 10;

export class TestnetTracker {
  readonly nodes: NodeView[];
  readonly blocks = new Map<string, BlockRecord>();
  /** Blocks in mint order (by blockNo, then arrival). */
  readonly order: BlockRecord[] = [];
  private totalCycles = 0;

  constructor(
    nodeCount: number,
    private readonly targets: PeerTargets,
  ) {
    this.nodes = Array.from({ length: nodeCount }, (_, index) => ({
      index,
      pid: undefined,
      started: false,
      stopped: false,
      hot: 0,
      warm: 0,
      cold: 0,
      maxHot: 0,
      maxWarmAndHot: 0,
      maxKnown: 0,
      startedAt: undefined,
      reachedTargetsAt: undefined,
      reachedKnownAt: undefined,
      reachedEstablishedAt: undefined,
      reachedActiveAt: undefined,
      tipBlockNo: undefined,
      churnCycles: 0,
      promotions: 0,
      demotions: 0,
      failures: 0,
      headersReceived: 0,
      headersMinted: 0,
      warnings: 0,
    }));
  }

  /**
   * The testnet's churn cycle now: how many cycles the nodes have begun, on average, rounded
   * down. Each node churns on its own fuzzed timer, so the nodes' cycles overlap; cycle 0 is
   * before most nodes churned once.
   */
  get cycle(): number {
    return Math.floor(this.totalCycles / this.nodes.length);
  }

  /** Takes one line of node `index`; returns what the view may show. */
  add(index: number, line: NodeLine): TrackerNotice[] {
    const node = this.nodes[index];
    if (node === undefined) return [];
    switch (line.event) {
      case 'snapshot':
        return this.snapshot(node, line);
      case 'started':
        node.started = true;
        node.startedAt = ms(line.time);
        return [];
      case 'stopped':
        node.stopped = true;
        return [];
      case 'promoted':
        node.promotions++;
        return [];
      case 'demoted':
        node.demotions++;
        return [];
      case 'failed':
        node.failures++;
        return [];
      case 'warning':
        node.warnings++;
        return [{ kind: 'warning', node: index, code: line.code, message: line.message }];
      case 'churn': {
        if (line.action === CYCLE_MARKER) {
          node.churnCycles++;
          this.totalCycles++;
        }
        return [{ kind: 'churn', node: index, action: line.action, count: line.count, cycle: this.cycle }];
      }
      case 'header':
        return this.header(node, line, ms(line.time));
      default:
        return [];
    }
  }

  private snapshot(node: NodeView, s: NodeSnapshot): TrackerNotice[] {
    node.pid = s.pid;
    node.tipBlockNo = s.tip?.blockNo;
    const ps = s.counters.peerSelection ?? {};
    const known = ps.known ?? 0;
    const established = ps.established ?? 0;
    const active = ps.active ?? 0;
    node.hot = active;
    node.warm = Math.max(0, established - active);
    node.cold = Math.max(0, known - established);
    // A peer being demoted still counts as hot (or warm) until its demotion completes, and the
    // governor may promote its replacement meanwhile: only the peers staying count against a target.
    node.maxHot = Math.max(node.maxHot, active - (ps.demotingHot ?? 0));
    node.maxWarmAndHot = Math.max(node.maxWarmAndHot, established - (ps.demotingWarm ?? 0));
    node.maxKnown = Math.max(node.maxKnown, known);
    const t = this.targets;
    const at = ms(s.time);
    if (node.reachedKnownAt === undefined && known >= t.known) node.reachedKnownAt = at;
    if (node.reachedEstablishedAt === undefined && established >= t.established) node.reachedEstablishedAt = at;
    if (node.reachedActiveAt === undefined && active >= t.active) node.reachedActiveAt = at;
    if (node.reachedTargetsAt === undefined && known >= t.known && established >= t.established && active >= t.active) {
      node.reachedTargetsAt = at;
      return [{ kind: 'targets', node: node.index }];
    }
    return [];
  }

  private header(node: NodeView, h: Extract<NodeEvent, { event: 'header' }>, at: number): TrackerNotice[] {
    let b = this.blocks.get(h.hash);
    if (b === undefined) {
      b = {
        hash: h.hash,
        blockNo: h.blockNo,
        slot: h.slot,
        producer: undefined,
        mintedAt: undefined,
        arrivals: new Map(),
        cycle: this.cycle,
        allReachedMs: undefined,
      };
      this.blocks.set(h.hash, b);
      this.order.push(b);
    }
    if (h.minted) {
      node.headersMinted++;
      b.producer = node.index;
      b.mintedAt = at;
      b.cycle = this.cycle;
    } else node.headersReceived++;
    if (!b.arrivals.has(node.index)) b.arrivals.set(node.index, at);
    if (b.allReachedMs === undefined && b.mintedAt !== undefined && b.arrivals.size === this.nodes.length) {
      let last = b.mintedAt;
      for (const t of b.arrivals.values()) last = Math.max(last, t);
      b.allReachedMs = last - b.mintedAt;
      return [{ kind: 'block', block: b }];
    }
    return [];
  }

  /** Blocks minted (their producer's line read) up to `until` (wall ms), in order. */
  minted(until = Number.POSITIVE_INFINITY): BlockRecord[] {
    return this.order.filter((b) => b.mintedAt !== undefined && b.mintedAt <= until);
  }

  /** Whether every block minted up to `until` has reached every node. */
  allDelivered(until = Number.POSITIVE_INFINITY): boolean {
    return this.minted(until).every((b) => b.allReachedMs !== undefined);
  }

  /** The summary over the blocks minted up to `until` (the end of minting; later ones are not counted). */
  summary(until = Number.POSITIVE_INFINITY): TestnetSummary {
    const blocks = this.minted(until);
    const cycles = new Map<number, BlockRecord[]>();
    for (const b of blocks) {
      const list = cycles.get(b.cycle) ?? [];
      list.push(b);
      cycles.set(b.cycle, list);
    }
    const perCycle: CycleSummary[] = [...cycles.entries()]
      .sort(([a], [b]) => a - b)
      .map(([cycle, list]) => ({ cycle, blocks: list.length, ...figures(list) }));
    const all = figures(blocks);
    const t = this.targets;
    const sum = (f: (n: NodeView) => number): number => this.nodes.reduce((s, n) => s + f(n), 0);
    return {
      nodes: this.nodes.length,
      producers: new Set(blocks.map((b) => b.producer)).size,
      blocks: blocks.length,
      complete: all.complete,
      p50Ms: all.p50Ms,
      p95Ms: all.p95Ms,
      maxMs: all.maxMs,
      perCycle,
      targets: { known: t.known, established: t.established, active: t.active },
      nodesAtTargets: this.nodes.filter((n) => n.reachedTargetsAt !== undefined).length,
      nodesAtKnownTarget: this.nodes.filter((n) => n.reachedKnownAt !== undefined).length,
      nodesAtEstablishedTarget: this.nodes.filter((n) => n.reachedEstablishedAt !== undefined).length,
      nodesAtActiveTarget: this.nodes.filter((n) => n.reachedActiveAt !== undefined).length,
      targetsReachedMs: this.nodes.map((n) =>
        n.reachedTargetsAt === undefined || n.startedAt === undefined ? null : n.reachedTargetsAt - n.startedAt,
      ),
      nodesOverTargets: this.nodes.filter(
        (n) => n.maxHot > t.active || n.maxWarmAndHot > t.established || n.maxKnown > t.known,
      ).length,
      churnCycles: this.totalCycles,
      promotions: sum((n) => n.promotions),
      demotions: sum((n) => n.demotions),
      failures: sum((n) => n.failures),
      warnings: sum((n) => n.warnings),
    };
  }
}

/** Diffusion figures of some blocks: p50/p95/max of the time to reach every node, over the blocks that did. */
export function figures(blocks: readonly BlockRecord[]): Omit<CycleSummary, 'cycle' | 'blocks'> {
  const times = blocks
    .map((b) => b.allReachedMs)
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  const q = (p: number): number | null => (times.length === 0 ? null : round1(percentile(times, p)));
  return {
    complete: times.length,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    maxMs: times.length === 0 ? null : round1(times[times.length - 1] as number),
  };
}
