/**
 * `spo simulate` end to end through the built binary with a small --nodes: the table, --json
 * (every round's figures, the same for the same seed), the HTML report with SVG charts, usage errors.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimulationResult } from '../../src/simulation/run.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

describe('spo simulate', () => {
  it('prints the steady-state table with a sparkline per policy and writes an HTML report with SVG charts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spo-simulate-'));
    const out = join(dir, 'report.html');
    const r = await runCli(['simulate', '--nodes', '120', '--rounds', '3', '--hot', '8', '--out', out], {
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(0);
    for (const name of ['node', 'no-churn', 'oracle', 'floor (direct links)']) expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/policy\s+p50\s+p95\s+p99\s+≤ 5 s\s+settled\s+p95 per round/);
    expect(r.stdout).toMatch(/node\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ %\s+(round \d+|no)\s+[▁▂▃▄▅▆▇█×]{3}/);
    expect(r.stderr).toContain('simulated 120 nodes × 3 rounds');
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('p95');
  });

  it('--json: one document with every round of every policy, identical for the same seed', async () => {
    const args = ['simulate', '--nodes', '100', '--rounds', '2', '--hot', '6', '--seed', '4', '--json'];
    const [a, b] = await Promise.all([runCli(args, { timeoutMs: 120_000 }), runCli(args, { timeoutMs: 120_000 })]);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const doc = parseJsonOutput<SimulationResult>(a);
    expect(doc.nodes).toBe(100);
    expect(doc.policies.map((p) => p.policy)).toEqual(['node', 'no-churn', 'oracle']);
    for (const p of [...doc.policies, doc.floor]) {
      expect(p.rounds).toHaveLength(2);
      for (const r of p.rounds) {
        expect(r.blocks).toBeGreaterThan(100);
        // null: some blocks never reached 95 % of nodes (the oracle can starve a producer of downstreams)
        if (p.policy !== 'oracle') expect(r.p95Ms).toBeGreaterThan(0);
        expect(r.p50Ms).toBeGreaterThan(0);
        expect(r.curve).toHaveLength(101);
        expect(r.withinDeadline).toBeGreaterThanOrEqual(0);
      }
    }
    expect(a.stderr).toBe('');
  });

  it('--policy node runs one policy; bad flags are usage errors', async () => {
    const one = await runCli(
      ['simulate', '--nodes', '60', '--rounds', '1', '--hot', '5', '--policy', 'node', '--json'],
      {
        timeoutMs: 60_000,
      },
    );
    expect(parseJsonOutput<SimulationResult>(one).policies.map((p) => p.policy)).toEqual(['node']);
    const bad = await runCli(['simulate', '--nodes', '5', '--hot', '5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--hot 5');
    const badPolicy = await runCli(['simulate', '--policy', 'greedy']);
    expect(badPolicy.code).toBe(2);
  });
});
