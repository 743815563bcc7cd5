/**
 * The orchestrator's life cycle with stand-in nodes (test/testnet/fake-node.mjs: same command line
 * and JSON lines as `spo run --json`, no governor): lines reach the tracker, and whichever way a
 * run ends, no child process, socket or temporary folder is left. The real nodes are in
 * test/e2e/testnet.test.ts.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTestnet, type TestnetRunOptions } from '../../src/testnet/orchestrator.js';
import { planTestnet } from '../../src/testnet/plan.js';
import { processAlive as alive } from '../lib/cli.js';

const FAKE = fileURLToPath(new URL('./fake-node.mjs', import.meta.url));

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

function options(extra: Partial<TestnetRunOptions> & { mode?: string } = {}): TestnetRunOptions {
  const base = { nodes: 4, producers: 2, seed: 3, latency: 'geo' as const, blockIntervalMs: 100 };
  const producers = planTestnet(base, [0, 0])
    .nodes.filter((n) => n.producer)
    .map((n) => n.index);
  return {
    ...base,
    durationMs: 1_500,
    churnIntervalMs: 1_000,
    bin: FAKE,
    signal: new AbortController().signal,
    stopGraceMs: 1_000,
    drainLimitMs: 1_000,
    env: {
      FAKE_MODE: extra.mode ?? '',
      FAKE_BLOCK_MS: '100',
      FAKE_ORIGIN: String(Date.now()),
      FAKE_PRODUCERS: producers.join(','),
      FAKE_NODES: String(base.nodes),
    },
    ...extra,
  };
}

async function leftNothing(r: Awaited<ReturnType<typeof runTestnet>>): Promise<void> {
  for (const e of r.exits) expect(alive(e.pid), `${e.node} pid ${e.pid}`).toBe(false);
  expect(existsSync(r.dir)).toBe(false);
  for (const n of r.plan.nodes) expect(await refused(n.host, r.ports[n.index] as number)).toBe(true);
}

describe('runTestnet (stand-in nodes)', () => {
  it('reads every node, measures each block to every node, stops all and removes its folder', async () => {
    const notices: string[] = [];
    // the drain ends as soon as every block is in: a generous limit costs nothing here and keeps
    // a loaded machine's late timers from cutting the last block short
    const r = await runTestnet({ ...options(), drainLimitMs: 10_000, onNotice: (n) => notices.push(n.kind) });
    expect(r.interrupted).toBe(false);
    expect(r.summary.blocks).toBeGreaterThan(5);
    expect(r.summary.complete).toBe(r.summary.blocks);
    // once every fake runs, the last one hears a block 3 ms per index after its due time: 9 ms for 4 nodes
    expect(r.summary.p50Ms).toBeLessThanOrEqual(9);
    expect(r.summary.nodesAtTargets).toBe(4);
    expect(r.summary.nodesOverTargets).toBe(0);
    expect(r.summary.churnCycles).toBeGreaterThan(0);
    expect(notices).toContain('block');
    expect(r.exits.every((e) => e.code === 0 && !e.killed)).toBe(true);
    await leftNothing(r);
  }, 30_000);

  it('--duration starts once every node is at its targets (the network formed), or after the limit', async () => {
    const phases: Array<{ phase: string; at: number }> = [];
    const onPhase = (phase: string): void => {
      phases.push({ phase, at: performance.now() });
    };
    const env = (ms: number) => ({ ...options().env, FAKE_MODE: 'late-targets', FAKE_TARGETS_MS: String(ms) });
    const r = await runTestnet({ ...options({ durationMs: 300 }), env: env(1_500), onPhase });
    const at = (p: string): number => phases.find((x) => x.phase === p)?.at ?? Number.NaN;
    expect(phases.map((p) => p.phase).slice(0, 3)).toEqual(['starting', 'forming', 'running']);
    // the last fake reports its known target 1.5 s after it started
    expect(at('running') - at('forming')).toBeGreaterThanOrEqual(1_000);
    expect(r.summary.nodesAtTargets).toBe(4);
    const last = r.summary.targetsReachedMs[3] as number;
    expect(last).toBeGreaterThanOrEqual(1_400);
    await leftNothing(r);

    // a node that never gets there: the run waits only the limit, and the summary says so
    phases.length = 0;
    const short = await runTestnet({ ...options({ durationMs: 300, formLimitMs: 500 }), env: env(60_000), onPhase });
    expect(at('running') - at('forming')).toBeLessThan(5_000);
    expect(short.summary.nodesAtTargets).toBe(3);
    expect(short.summary.targetsReachedMs[3]).toBeNull();
    await leftNothing(short);
  }, 30_000);

  it('a node that ignores SIGTERM is killed after the grace time', async () => {
    const r = await runTestnet(options({ mode: 'stubborn', durationMs: 500 }));
    expect(r.exits.every((e) => e.killed && e.signal === 'SIGKILL')).toBe(true);
    expect(r.stopMs).toBeGreaterThanOrEqual(1_000);
    await leftNothing(r);
  }, 30_000);

  it('blocks that never reach every node are counted incomplete; the end waits only the drain limit', async () => {
    const r = await runTestnet(options({ mode: 'silent-relay', durationMs: 800 }));
    expect(r.summary.blocks).toBeGreaterThan(0);
    expect(r.summary.complete).toBe(0);
    await leftNothing(r);
  }, 30_000);

  it('an interrupted run stops every node and says so', async () => {
    const ac = new AbortController();
    let running = false;
    const r = await runTestnet({
      ...options({ durationMs: 60_000 }),
      signal: ac.signal,
      onPhase: (phase) => {
        running = phase === 'running';
      },
      onNotice: (n) => {
        if (running && n.kind === 'block') ac.abort(new Error('stop'));
      },
    });
    expect(r.interrupted).toBe(true);
    expect(r.durationMs).toBeLessThan(30_000);
    await leftNothing(r);
  }, 30_000);

  it('interrupted while starting: the run fails with the reason and stops the nodes started', async () => {
    const ac = new AbortController();
    let pids: Array<number | undefined> = [];
    const err = await runTestnet({
      ...options(),
      signal: ac.signal,
      onPlan: () => ac.abort(new Error('stop now')),
      onPhase: (phase, t) => {
        if (phase === 'stopped') pids = t.nodes.map((n) => n.pid);
      },
    }).catch((e: unknown) => e);
    expect(err, JSON.stringify(err)).toBeInstanceOf(Error);
    expect(String(err)).toContain('stop now');
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);

  it('a node that fails at start fails the run with its words, and the others are stopped', async () => {
    let pids: Array<number | undefined> = [];
    const err = await runTestnet(
      options({
        mode: 'crash',
        onPhase: (phase, t) => {
          if (phase === 'stopped') pids = t.nodes.map((n) => n.pid);
        },
      }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TESTNET_NODE_FAILED' });
    expect(String((err as Error).message)).toContain('fake node failed to start');
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);
});
