import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { planTestnet } from '../../src/testnet/plan.js';
import { type NodeLine, TestnetTracker } from '../../src/testnet/tracker.js';
import { palette } from '../../src/ui/color.js';
import { noticeLine, renderFrame, renderSummary } from '../../src/ui/testnet.js';

const p = palette(new Chalk({ level: 0 }));
const T0 = Date.parse('2026-12-05T12:00:00.000Z');

function scene() {
  const plan = planTestnet({ nodes: 3, producers: 1, seed: 1, latency: 'geo', blockIntervalMs: 1_000 }, [7, 7]);
  const tracker = new TestnetTracker(3, plan.targets);
  const producer = plan.nodes.find((n) => n.producer)?.index as number;
  const h = (ms: number, minted: boolean): NodeLine => ({
    event: 'header',
    time: new Date(T0 + ms).toISOString(),
    blockNo: 1,
    slot: 1,
    hash: 'aa',
    from: 'x',
    ...(minted ? { minted } : {}),
  });
  tracker.add(producer, h(0, true));
  const notices = [0, 1, 2].filter((i) => i !== producer).flatMap((i) => tracker.add(i, h(30 + i, false)));
  for (const i of [0, 1, 2]) {
    tracker.add(i, {
      event: 'started',
      time: new Date(T0 - 1_000 * (i + 1)).toISOString(),
      listening: [],
      network: 'custom',
      magic: 4242,
      role: 'relay',
    });
    tracker.add(i, {
      event: 'snapshot',
      seq: 1,
      time: new Date(T0).toISOString(),
      pid: 10 + i,
      listening: [],
      uptimeMs: 0,
      counters: { peerSelection: { known: 2, established: 2, active: 1 } },
      tip: { blockNo: 1, slot: 1, hash: 'aa' },
      peers: [],
    });
  }
  const header = { plan, ports: [3001, 3002, 3003], durationMs: 60_000, churnIntervalMs: 20_000 };
  return { plan, tracker, notices, header };
}

describe('the testnet view', () => {
  it('shows each node with its address, role, region and hot/warm/cold, and the blocks per cycle', () => {
    const { tracker, header } = scene();
    const text = renderFrame(header, tracker, ['a log line'], 5_000, 'Ctrl-C stops every node', p).join('\n');
    expect(text).toContain('3 nodes (1 producing) · latency geo · seed 1 · 0:05 / 1:00');
    expect(text).toMatch(/NODE\s+ADDRESS\s+ROLE\s+REGION\s+HOT\/1\s+WARM\s+COLD\s+TIP\s+CHURNS\s+STATE/);
    expect(text).toMatch(/n1\s+127\.7\.7\.1:3001\s+(producer|relay)\s+\S+/);
    expect(text).toContain('blocks 1 · this cycle p50');
    expect(text).toContain('a log line');
  });

  it('a block notice says how long it took to reach every node', () => {
    const { plan, notices } = scene();
    const block = notices.find((n) => n.kind === 'block');
    expect(block).toBeDefined();
    const line = noticeLine(block as NonNullable<typeof block>, plan, p, '12:00:00');
    expect(line).toMatch(/^12:00:00 block #1 from n\d reached all 3 nodes in 3\d\.0 ms \(cycle 0\)$/);
  });

  it('the summary has a row per churn cycle and one for all, and how the nodes stopped', () => {
    const { tracker, header } = scene();
    const text = renderSummary(header, tracker.summary(), { stopMs: 120, killed: 0, interrupted: false }, p);
    expect(text).toMatch(/CHURN CYCLE\s+BLOCKS\s+REACHED ALL\s+P50 ms\s+P95 ms\s+MAX ms/);
    expect(text).toMatch(/\n0\s+1\s+1\/1\s+3\d\.0\s+3\d\.0\s+3\d\.0/);
    expect(text).toMatch(/\nall\s+1\s+1\/1/);
    expect(text).toContain(
      'nodes at their targets (known 2, established 2, active 1, all at once) 3/3, the last 3.0 s after its start · over a target 0',
    );
    // a node short of a target: which targets, how many nodes reached each
    tracker.add(1, {
      event: 'snapshot',
      seq: 2,
      time: new Date(T0 + 1_000).toISOString(),
      pid: 11,
      listening: [],
      uptimeMs: 1_000,
      counters: { peerSelection: { known: 3, established: 2, active: 1 } },
      peers: [],
    });
    const fresh = scene();
    fresh.tracker.nodes[2] = {
      ...(fresh.tracker.nodes[2] as (typeof fresh.tracker.nodes)[number]),
      reachedTargetsAt: undefined,
      reachedKnownAt: undefined,
    };
    const short = renderSummary(
      fresh.header,
      fresh.tracker.summary(),
      { stopMs: 120, killed: 0, interrupted: false },
      p,
    );
    expect(short).toContain(
      'all at once) 2/3 (known 2/3, established 3/3, active 3/3), the last 2.0 s after its start',
    );
    expect(renderSummary(header, tracker.summary(), { stopMs: 120, killed: 0, interrupted: false }, p)).toContain(
      'over a target 1',
    );
    expect(text).toContain('stopped 3 nodes in 120 ms');
  });
});
