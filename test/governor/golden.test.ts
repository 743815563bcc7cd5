/**
 * Golden outputs of `spo governor dry-run`, through the real bin/run.js: the same seed, topology and
 * configuration must give byte-identical output (--json and the text table) whatever the governor's
 * internals become. The files were recorded from the governor before its driver was extracted
 * (issue 11); a file changes only together with an entry in docs/governor-deviations.md that
 * explains the difference.
 *
 * Re-record (only with such an explanation): GOLDEN_UPDATE=1 npx vitest run test/governor/golden.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli.js';

const dir = fileURLToPath(new URL('../fixtures/governor/golden/', import.meta.url));
const GOV = 'test/fixtures/governor';
const TOPO = 'test/fixtures/topology';

interface GoldenCase {
  name: string;
  args: string[];
}

/** Short runs (minutes to hours of simulated time) so that the whole set stays quick. */
const GOLDEN_CASES: GoldenCase[] = [
  { name: 'default-seed1-30m', args: ['--duration', '30m', '--json'] },
  { name: 'default-seed1-30m-text', args: ['--duration', '30m'] },
  { name: 'seed7-2h-at', args: ['--seed', '7', '--duration', '2h', '--at', '10m', '--at', '1h', '--json'] },
  { name: 'seed42-text-at', args: ['--seed', '42', '--duration', '20m', '--at', '5m'] },
  { name: 'seed-negative-no-churn', args: ['--seed', '-3', '--no-churn', '--duration', '1h', '--json'] },
  { name: 'seed3-trace-json', args: ['--seed', '3', '--trace', '--duration', '10m', '--json'] },
  { name: 'seed3-trace-text', args: ['--seed', '3', '--trace', '--duration', '5m'] },
  {
    name: 'guild-topology-config',
    args: ['--topology', `${GOV}/guild-mainnet-topology.json`, '--config', `${GOV}/guild-mainnet-config.json`],
    // default duration (2h)
  },
  {
    name: 'guild-topology-config-json',
    args: [
      '--topology',
      `${GOV}/guild-mainnet-topology.json`,
      '--config',
      `${GOV}/guild-mainnet-config.json`,
      '--duration',
      '1h',
      '--seed',
      '5',
      '--json',
    ],
  },
  {
    name: 'guild-topology-no-config',
    args: ['--topology', `${GOV}/guild-mainnet-topology.json`, '--duration', '1h', '--seed', '5', '--json'],
  },
  {
    name: 'yaml-config',
    args: ['--config', `${GOV}/node-config.yaml`, '--duration', '30m', '--seed', '9', '--json'],
  },
  {
    name: 'mainnet-topology-judgement',
    args: [
      '--topology',
      `${GOV}/cardano-node-mainnet-topology.json`,
      '--judgement',
      '0s=too-old,20m=young',
      '--at',
      '10m',
      '--duration',
      '40m',
      '--json',
    ],
  },
  {
    name: 'mainnet-topology-too-old-trace',
    args: [
      '--topology',
      `${GOV}/cardano-node-mainnet-topology.json`,
      '--ledger-state',
      'too-old',
      '--duration',
      '20m',
      '--trace',
    ],
  },
  { name: 'regime-praos-sync', args: ['--regime', 'praos-sync', '--duration', '2h', '--seed', '11', '--json'] },
  {
    name: 'regime-bootstrap-praos-sync',
    args: [
      '--topology',
      `${GOV}/cardano-node-mainnet-topology.json`,
      '--regime',
      'bootstrap-praos-sync',
      '--duration',
      '1h',
      '--json',
    ],
  },
  {
    name: 'judgement-regime-explicit',
    args: ['--judgement', '0s=too-old,30m=young', '--regime', 'deadline', '--duration', '1h', '--json'],
  },
  {
    name: 'genesis-too-old-no-churn',
    args: ['--consensus-mode', 'genesis', '--ledger-state', 'too-old', '--no-churn', '--duration', '10m', '--json'],
  },
  {
    name: 'genesis-judgement-churn',
    args: [
      '--consensus-mode',
      'genesis',
      '--judgement',
      '0s=too-old,30m=young',
      '--config',
      `${GOV}/guild-mainnet-config.json`,
      '--duration',
      '1h30m',
      '--at',
      '20m',
      '--json',
    ],
  },
  {
    name: 'topo-early-p2p-groups',
    args: [
      '--topology',
      `${TOPO}/cardano-node-mainnet-topology.early-p2p-groups.2021-11.json`,
      '--duration',
      '30m',
      '--json',
    ],
  },
  {
    name: 'topo-p2p-publicroots',
    args: [
      '--topology',
      `${TOPO}/cardano-node-mainnet-topology.p2p-publicroots.2024-02.json`,
      '--duration',
      '30m',
      '--seed',
      '2',
      '--json',
    ],
  },
  {
    name: 'topo-testnet-empty',
    args: [
      '--topology',
      `${TOPO}/cardano-node-testnet-template-topology-empty-p2p.json`,
      '--duration',
      '30m',
      '--json',
    ],
  },
  {
    name: 'topo-genesis-mode',
    args: [
      '--topology',
      `${TOPO}/cardano-playground-mainnet-topology-genesis-mode.json`,
      '--consensus-mode',
      'genesis',
      '--ledger-state',
      'too-old',
      '--duration',
      '30m',
      '--json',
    ],
  },
  {
    name: 'topo-playground-non-bootstrap',
    args: ['--topology', `${TOPO}/playground-mainnet-topology-non-bootstrap-peers.json`, '--duration', '30m', '--json'],
  },
  {
    name: 'topo-playground-mainnet-too-old',
    args: [
      '--topology',
      `${TOPO}/playground-mainnet-topology.json`,
      '--judgement',
      '0s=too-old,10m=young',
      '--duration',
      '30m',
      '--json',
    ],
  },
  {
    name: 'topo-guild-preprod',
    args: ['--network', 'preprod', '--topology', `${TOPO}/guild-preprod-topology.json`, '--duration', '30m', '--json'],
  },
  {
    name: 'topo-playground-preview',
    args: [
      '--network',
      'preview',
      '--topology',
      `${TOPO}/playground-preview-topology.json`,
      '--duration',
      '30m',
      '--at',
      '3m',
    ],
  },
];

const file = (c: GoldenCase) => `${dir}${c.name}.${c.args.includes('--json') ? 'json' : 'txt'}`;

/** Runs the cases a few at a time (the machine is shared; each run is a separate node process). */
async function runAll(cases: GoldenCase[], width: number) {
  const out = new Map<string, { code: number | null; stdout: string; stderr: string }>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i] as GoldenCase;
      out.set(c.name, await runCli(['governor', 'dry-run', ...c.args], { timeoutMs: 120_000 }));
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

describe('spo governor dry-run golden outputs', () => {
  it('every case prints byte-for-byte what was recorded', { timeout: 600_000 }, async () => {
    const results = await runAll(GOLDEN_CASES, 3);
    const update = process.env.GOLDEN_UPDATE === '1';
    const differ: string[] = [];
    for (const c of GOLDEN_CASES) {
      const r = results.get(c.name);
      expect(r?.code, `${c.name}: ${r?.stderr}`).toBe(0);
      const stdout = r?.stdout ?? '';
      if (update) writeFileSync(file(c), stdout);
      else if (readFileSync(file(c), 'utf8') !== stdout) differ.push(c.name);
    }
    if (differ.length > 0) {
      // Show the first difference of the first case that differs.
      const c = GOLDEN_CASES.find((x) => x.name === differ[0]) as GoldenCase;
      expect(results.get(c.name)?.stdout, `golden output differs: ${differ.join(', ')}`).toBe(
        readFileSync(file(c), 'utf8'),
      );
    }
    expect(differ).toEqual([]);
  });
});
