/**
 * `spo testnet` end to end through the built binary (issue 14's "Done when"): 8 live `spo run`
 * nodes on loopback reach their targets (known, established and active, all at once; none ever
 * above one), every block reaches every node, churn happens (a short --churn-interval), and every
 * process and socket is gone within 5 s of the end; Ctrl-C does the same. Waits are on the
 * process's own lines and exit, never on sleeps.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TestnetJsonSummary } from '../../src/commands/testnet.js';
import { processAlive as alive, runCli } from '../lib/cli.js';

interface PlanLine {
  event: 'plan';
  nodes: Array<{ name: string; address: string; producer: boolean }>;
  targets: { known: number; established: number; active: number };
}

/** The targets the plan line gives (it carries root and big ledger targets too). */
const tiers = (t: PlanLine['targets']) => ({ known: t.known, established: t.established, active: t.active });

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function refused(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** Every node's process is gone and nothing listens on its address any more. */
async function nothingLeft(plan: PlanLine, summary: TestnetJsonSummary): Promise<void> {
  expect(summary.exits).toHaveLength(plan.nodes.length);
  for (const e of summary.exits) {
    expect(e.pid).toBeGreaterThan(0);
    expect(alive(e.pid), `${e.node} (pid ${e.pid}) still running`).toBe(false);
    expect(e.killed).toBe(false);
    expect(e.stopMs).toBeLessThan(5_000);
  }
  for (const n of plan.nodes) expect(await refused(n.address), `${n.address} still listening`).toBe(true);
}

describe('spo testnet', () => {
  it('8 nodes reach their targets, every block reaches every node, churn happens, and nothing is left at the end', async () => {
    const r = await runCli(
      [
        'testnet',
        '--json',
        '--nodes',
        '8',
        '--producers',
        '2',
        '--duration',
        '40s',
        '--block-interval',
        '1s',
        '--churn-interval',
        '8s',
        '--seed',
        '3',
      ],
      // 40 s once the network formed (seconds, at most FORM_LIMIT_MS), plus start and stop
      { timeoutMs: 240_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    const plan = out.find((l) => l.event === 'plan') as unknown as PlanLine;
    const summary = out.find((l) => l.event === 'summary') as unknown as TestnetJsonSummary;
    expect(plan.nodes).toHaveLength(8);
    expect(new Set(plan.nodes.map((n) => n.address.split(':')[0])).size).toBe(8);
    expect(plan.nodes.filter((n) => n.producer)).toHaveLength(2);

    // every node at its known, established and active targets (all three at once), none ever above one
    expect(summary.targets).toEqual(tiers(plan.targets));
    expect(summary.nodesAtTargets, JSON.stringify(summary.targetsReachedMs)).toBe(8);
    expect(summary.nodesAtKnownTarget).toBe(8);
    expect(summary.nodesAtEstablishedTarget).toBe(8);
    expect(summary.nodesAtActiveTarget).toBe(8);
    expect(summary.targetsReachedMs).toHaveLength(8);
    for (const ms of summary.targetsReachedMs) expect(ms).toBeGreaterThan(0);
    expect(summary.nodesOverTargets).toBe(0);
    expect(summary.blocks).toBeGreaterThanOrEqual(20);
    expect(summary.producers).toBe(2);
    expect(summary.complete).toBe(summary.blocks);
    const blocks = out.filter((l) => l.event === 'block');
    expect(blocks.length).toBeGreaterThanOrEqual(summary.blocks);
    for (const b of blocks) expect(Object.keys(b.arrivalsMs as object)).toHaveLength(8);
    expect(summary.churnCycles).toBeGreaterThanOrEqual(8);
    expect(out.some((l) => l.event === 'churn' && l.action === 'DecreasedActivePeers')).toBe(true);
    expect(summary.perCycle.length).toBeGreaterThanOrEqual(2);
    expect(summary.interrupted).toBe(false);
    await nothingLeft(plan, summary);
  }, 270_000);

  it('Ctrl-C stops every node within 5 s, prints the summary and exits 130', async () => {
    let sentAt = 0;
    const r = await runCli(
      ['testnet', '--json', '--nodes', '4', '--producers', '1', '--duration', '5m', '--block-interval', '1s'],
      {
        timeoutMs: 120_000,
        onSpawn: (child) => {
          let buf = '';
          child.stdout?.on('data', (d: Buffer) => {
            buf += d.toString();
            // interrupt once the first block has reached every node
            if (sentAt === 0 && buf.includes('"event":"block"')) {
              sentAt = performance.now();
              child.kill('SIGINT');
            }
          });
        },
      },
    );
    expect(sentAt).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(130);
    const out = lines(r.stdout).filter((l) => l.event !== undefined);
    const plan = out.find((l) => l.event === 'plan') as unknown as PlanLine;
    const summary = out.find((l) => l.event === 'summary') as unknown as TestnetJsonSummary;
    expect(summary.interrupted).toBe(true);
    expect(summary.stopMs).toBeLessThan(5_000);
    await nothingLeft(plan, summary);
  }, 150_000);
});

describe('spo testnet flags', () => {
  it('--network is refused (a testnet is a network of its own), naming --magic', async () => {
    const r = await runCli(['testnet', '--network', 'mainnet', '--json']);
    expect(r.code).toBe(2);
    const err = (JSON.parse(r.stdout) as { error: { code: string; hint: string } }).error;
    expect(err.code).toBe('BAD_NETWORK');
    expect(err.hint).toContain('--magic');
  });
});
