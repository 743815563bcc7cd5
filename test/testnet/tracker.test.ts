import { describe, expect, it } from 'vitest';
import type { PeerTargets } from '../../src/lib/peer-targets.js';
import type { NodeSnapshot } from '../../src/node/snapshot.js';
import { CYCLE_MARKER, figures, type NodeLine, TestnetTracker } from '../../src/testnet/tracker.js';

const T0 = Date.parse('2026-12-05T12:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const targets: PeerTargets = {
  root: 2,
  known: 3,
  established: 2,
  active: 1,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
};

function header(ms: number, blockNo: number, minted = false): NodeLine {
  return {
    event: 'header',
    time: at(ms),
    blockNo,
    slot: blockNo,
    hash: `h${blockNo}`,
    from: 'x',
    ...(minted ? { minted } : {}),
  };
}

function snapshot(ms: number, known: number, established: number, active: number): NodeSnapshot {
  return {
    event: 'snapshot',
    seq: 1,
    time: at(ms),
    pid: 100,
    listening: [],
    uptimeMs: ms,
    counters: { peerSelection: { known, established, active } },
    peers: [],
  };
}

describe('TestnetTracker', () => {
  it("a block's time to reach every node is from its mint to the last first arrival, whatever order the lines come in", () => {
    const t = new TestnetTracker(3, targets);
    // a relay's line may be read before the producer's own
    expect(t.add(1, header(40, 1))).toEqual([]);
    expect(t.add(0, header(0, 1, true))).toEqual([]);
    const notices = t.add(2, header(95, 1));
    expect(notices).toHaveLength(1);
    expect(t.blocks.get('h1')?.allReachedMs).toBe(95);
    // a second arrival at a node does not move its first one
    t.add(2, header(300, 1));
    expect(t.blocks.get('h1')?.arrivals.get(2)).toBe(T0 + 95);
  });

  it('a block that never reached a node stays incomplete and does not count in the figures', () => {
    const t = new TestnetTracker(3, targets);
    t.add(0, header(0, 1, true));
    t.add(1, header(10, 1));
    expect(t.allDelivered()).toBe(false);
    const s = t.summary();
    expect(s.blocks).toBe(1);
    expect(s.complete).toBe(0);
    expect(s.p95Ms).toBeNull();
  });

  it('blocks minted after the end of minting are left out of the summary', () => {
    const t = new TestnetTracker(2, targets);
    t.add(0, header(0, 1, true));
    t.add(1, header(20, 1));
    t.add(0, header(5_000, 2, true));
    expect(t.summary(T0 + 1_000).blocks).toBe(1);
    expect(t.allDelivered(T0 + 1_000)).toBe(true);
    expect(t.allDelivered()).toBe(false);
  });

  it('groups blocks by churn cycle: cycles begun by all nodes over the node count', () => {
    const t = new TestnetTracker(2, targets);
    const churn = (node: number, ms: number): void => {
      t.add(node, { event: 'churn', time: at(ms), action: CYCLE_MARKER, count: 1 });
      // other steps of the cycle do not count as cycles
      t.add(node, { event: 'churn', time: at(ms), action: 'IncreasedActivePeers', count: 2 });
    };
    for (const [i, reach] of [
      [1, 100],
      [2, 120],
    ] as const) {
      t.add(0, header(i * 1000, i, true));
      t.add(1, header(i * 1000 + reach, i));
    }
    churn(0, 2_500);
    expect(t.cycle).toBe(0); // one of two nodes churned
    churn(1, 2_600);
    expect(t.cycle).toBe(1);
    for (const [i, reach] of [
      [3, 50],
      [4, 70],
      [5, 60],
    ] as const) {
      t.add(0, header(i * 1000, i, true));
      t.add(1, header(i * 1000 + reach, i));
    }
    const s = t.summary();
    expect(s.perCycle).toEqual([
      { cycle: 0, blocks: 2, complete: 2, p50Ms: 100, p95Ms: 120, maxMs: 120 },
      { cycle: 1, blocks: 3, complete: 3, p50Ms: 60, p95Ms: 70, maxMs: 70 },
    ]);
    expect(s.churnCycles).toBe(2);
    expect(s.p50Ms).toBe(70);
  });

  it('counts hot/warm/cold from the snapshots, when each node reached its targets (all three at once), and any excess', () => {
    const t = new TestnetTracker(3, targets);
    t.add(0, { event: 'started', time: at(-500), listening: [], network: 'custom', magic: 4242, role: 'relay' });
    expect(t.add(0, snapshot(0, 3, 1, 1))).toEqual([]);
    expect(t.nodes[0]).toMatchObject({ hot: 1, warm: 0, cold: 2 });
    expect(t.add(0, snapshot(1_000, 3, 2, 1))).toEqual([{ kind: 'targets', node: 0 }]);
    expect(t.nodes[0]?.reachedTargetsAt).toBe(T0 + 1_000);
    expect(t.nodes[0]?.reachedKnownAt).toBe(T0);
    // established and active reached, known not (yet): not at its targets
    expect(t.add(1, snapshot(1_000, 2, 2, 1))).toEqual([]);
    // each target at some moment, never all three at once: not at its targets either
    t.add(2, snapshot(1_000, 3, 1, 1));
    t.add(2, snapshot(2_000, 2, 2, 1));
    const s = t.summary();
    expect(s.targets).toEqual({ known: 3, established: 2, active: 1 });
    expect(s.nodesAtTargets).toBe(1);
    expect(s.nodesAtKnownTarget).toBe(2);
    expect(s.nodesAtEstablishedTarget).toBe(3);
    expect(s.nodesAtActiveTarget).toBe(3);
    expect(s.targetsReachedMs).toEqual([1_500, null, null]);
    expect(s.nodesOverTargets).toBe(0);
    t.add(1, snapshot(3_000, 4, 2, 1));
    expect(t.summary().nodesOverTargets).toBe(1);
  });
});

describe('figures', () => {
  it('p50/p95 by the nearest rank over the blocks that reached every node', () => {
    const blocks = Array.from({ length: 20 }, (_, i) => ({
      hash: `h${i}`,
      blockNo: i,
      slot: i,
      producer: 0,
      mintedAt: 0,
      arrivals: new Map<number, number>(),
      cycle: 0,
      allReachedMs: i === 19 ? undefined : (i + 1) * 10,
    }));
    // 19 complete blocks: 10..190 ms; p50 = 10th = 100, p95 = ceil(0.95*19) = 19th = 190
    expect(figures(blocks)).toEqual({ complete: 19, p50Ms: 100, p95Ms: 190, maxMs: 190 });
  });
});

describe('over a target', () => {
  it('a hot peer in the middle of its demotion does not count against the active target', () => {
    const t = new TestnetTracker(1, targets);
    const s = snapshot(0, 3, 2, 2);
    s.counters.peerSelection = { known: 3, established: 2, active: 2, demotingHot: 1 };
    t.add(0, s);
    expect(t.summary().nodesOverTargets).toBe(0);
    t.add(0, snapshot(1_000, 3, 2, 2));
    expect(t.summary().nodesOverTargets).toBe(1);
  });
});
