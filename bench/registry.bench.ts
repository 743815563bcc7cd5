/**
 * Registry benchmarks (issue 2), each a ratio against a baseline measured in the same run:
 * - `spo --version` and `spo relays list --source embedded` wall time vs `node -e 0` (medians);
 * - reading a generated 10,000-pool peer snapshot (JSON.parse + validation + hygiene) vs JSON.parse alone.
 * Needs a build (`npm run bench` builds first).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { finishRegistry, parseRegistryDocument } from '../src/registry/index.js';
import type { BenchResult } from './run.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function wallMs(args: string[], retries = 2): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', CI: 'true' },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) {
    // other helpers rebuild dist/ on this machine: a run that meets a half-written build is redone
    if (retries > 0) return wallMs(args, retries - 1);
    throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return ms;
}

/**
 * A 10,000-pool snapshot in the NodeToClientVersion form, shaped like mainnet's: 1-3 relays per pool,
 * about 2/3 DNS names (a few in mixed case), 30% IPv4, a few IPv6 and SRV names.
 */
export function generateSnapshot(pools = 10_000): string {
  let acc = 0;
  const list = [];
  for (let i = 0; i < pools; i++) {
    const stake = 1 / pools;
    acc += stake;
    const relays: Array<{ address: string; port?: number }> = [];
    const n = 1 + (i % 3);
    for (let j = 0; j < n; j++) {
      const k = (i * 7 + j) % 10;
      const name = i % 30 === 0 ? `Relay-${j}.Pool-${i}.example.com` : `relay-${j}.pool-${i}.example.com`;
      if (k < 6) relays.push({ address: name, port: 3001 + j });
      else if (k < 9)
        relays.push({ address: `${45 + (i % 150)}.${(i >> 4) & 255}.${j}.${((i + j) % 250) + 1}`, port: 6000 });
      else if (k === 9 && j === 0) relays.push({ address: `pool-${i}.example.net` });
      else relays.push({ address: `2a01:4f8:${i.toString(16)}::${j + 1}`, port: 3001 });
    }
    list.push({ accumulatedStake: acc, relativeStake: stake, relays });
  }
  return JSON.stringify({
    NetworkMagic: 764824073,
    NodeToClientVersion: 23,
    Point: { blockPointHash: 'ab'.repeat(32), blockPointSlot: 185831188 },
    bigLedgerPools: list,
  });
}

export default async function registryBench(): Promise<BenchResult[]> {
  // warm the file cache and the compile cache before measuring
  wallMs(['-e', '0']);
  wallMs([BIN, '--version']);
  wallMs([BIN, 'relays', 'list', '--source', 'embedded']);
  const base: number[] = [];
  const version: number[] = [];
  const list: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // interleaved, so that load on the machine hits all three alike
    base.push(wallMs(['-e', '0']));
    version.push(wallMs([BIN, '--version']));
    list.push(wallMs([BIN, 'relays', 'list', '--source', 'embedded']));
  }
  const b = median(base);
  const v = median(version);
  const l = median(list);

  const text = generateSnapshot();
  const parseOnly: number[] = [];
  const full: number[] = [];
  // CPU time too: on a shared machine it is steadier than wall time (both are reported)
  const parseCpu: number[] = [];
  const fullCpu: number[] = [];
  const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
  let pools = 0;
  // two warm-up rounds (JIT), then the measured ones
  for (let i = 0; i < 2; i++) finishRegistry(parseRegistryDocument(JSON.parse(text), 'warm-up'), 'warm-up');
  for (let i = 0; i < 9; i++) {
    let t = performance.now();
    let c = process.cpuUsage();
    JSON.parse(text);
    parseOnly.push(performance.now() - t);
    parseCpu.push(cpuMs(process.cpuUsage(c)));
    t = performance.now();
    c = process.cpuUsage();
    const reg = finishRegistry(parseRegistryDocument(JSON.parse(text), 'generated.json'), 'generated.json');
    full.push(performance.now() - t);
    fullCpu.push(cpuMs(process.cpuUsage(c)));
    pools = reg.pools.length;
  }
  if (pools !== 10_000) throw new Error(`expected 10000 pools, parsed ${pools}`);
  const p = median(parseOnly);
  const f = median(full);
  const baseline = { name: 'node -e 0 (median)', value: b };
  return [
    {
      name: 'spo --version wall time (median)',
      value: v,
      unit: 'ms',
      baseline,
      ratio: v / b,
      target: '<= 4x node -e 0',
      met: v / b <= 4,
    },
    {
      name: 'spo relays list --source embedded wall time (median)',
      value: l,
      unit: 'ms',
      baseline,
      ratio: l / b,
      target: '<= 6x node -e 0',
      met: l / b <= 6,
    },
    {
      name: `read a 10,000-pool snapshot (${(text.length / 1e6).toFixed(1)} MB): JSON.parse + validation + hygiene (median)`,
      value: f,
      unit: 'ms',
      baseline: { name: 'JSON.parse alone (median)', value: p },
      ratio: f / p,
      target: '< 10x JSON.parse',
      met: f / p < 10,
    },
    {
      name: 'same, CPU time (median)',
      value: median(fullCpu),
      unit: 'ms',
      baseline: { name: 'JSON.parse alone, CPU time (median)', value: median(parseCpu) },
      ratio: median(fullCpu) / median(parseCpu),
      target: '< 10x JSON.parse',
      met: median(fullCpu) / median(parseCpu) < 10,
    },
  ];
}
