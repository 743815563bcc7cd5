/**
 * Issue 3: resolving 5,000 names against a local dnsmasq with spo's resolver versus Node's
 * dns.promises.Resolver (c-ares) pointed at the same server, same concurrency (8), same run.
 * Each side runs in a fresh process (bench/dns-worker.mjs), alternating, several rounds; medians are
 * reported. Targets: throughput >= 0.8x c-ares, peak memory <= 2x.
 * Two conditions: "warm" (both sides first resolve 10,000 other names, so spo's JIT has compiled its
 * hot path; c-ares is native and needs none) and "cold" (a fresh process straight into the 5,000).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDnsmasq } from '../test/dns/dnsmasq.js';
import type { BenchResult } from './run.js';

const NAMES = 5000;
const WARMUP = 10_000;
const CONCURRENCY = 8;
const ROUNDS = 5;
const WORKER = fileURLToPath(new URL('./dns-worker.mjs', import.meta.url));

interface WorkerResult {
  which: string;
  cpuUsPerQuery: number;
  ms: number;
  ok: number;
  failed: number;
  qps: number;
  heapGrowth: number;
  maxRss: number;
  /** CPU ms of the main thread and of V8's other threads during the lookups (Linux; else null). */
  mainThreadMs: number | null;
  otherThreadsMs: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function runWorker(which: 'spo' | 'cares' | 'raw', port: number, warm: number): WorkerResult {
  const r = spawnSync(
    process.execPath,
    [WORKER, which, String(port), String(NAMES), String(CONCURRENCY), String(warm)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`dns-worker ${which} failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim()) as WorkerResult;
  if (res.ok !== NAMES) throw new Error(`dns-worker ${which}: only ${res.ok}/${NAMES} names resolved`);
  return res;
}

export default async function (): Promise<BenchResult[]> {
  const hosts = [
    ...Array.from({ length: NAMES }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255} n${i}.bench.test`),
    ...Array.from({ length: WARMUP }, (_, i) => `10.1.${(i >> 8) & 255}.${i & 255} w${i}.bench.test`),
  ];
  const dns = await startDnsmasq({ localDomains: ['bench.test'], hosts });
  const out: BenchResult[] = [];
  try {
    for (const [label, warm] of [
      ['warm', WARMUP],
      ['cold', 0],
    ] as const) {
      const spo: WorkerResult[] = [];
      const cares: WorkerResult[] = [];
      const raw: WorkerResult[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        raw.push(runWorker('raw', dns.port, warm));
        // alternate which side goes first, so that drift in the machine's load hits both
        if (i % 2 === 0) {
          spo.push(runWorker('spo', dns.port, warm));
          cares.push(runWorker('cares', dns.port, warm));
        } else {
          cares.push(runWorker('cares', dns.port, warm));
          spo.push(runWorker('spo', dns.port, warm));
        }
      }
      const qps = median(spo.map((r) => r.qps));
      const baseQps = median(cares.map((r) => r.qps));
      // Each round's spo and c-ares runs are back to back: the median of the per-round ratios is the
      // figure least moved by other load on the machine.
      const ratio = median(spo.map((r, i) => r.qps / (cares[i] as WorkerResult).qps));
      process.stderr.write(
        `${label}: spo us/lookup ${spo.map((r) => r.cpuUsPerQuery.toFixed(1)).join(' ')} | c-ares us/lookup ${cares.map((r) => r.cpuUsPerQuery.toFixed(1)).join(' ')}\n` +
          `${label}: spo q/s ${spo.map((r) => Math.round(r.qps)).join(' ')} | c-ares q/s ${cares.map((r) => Math.round(r.qps)).join(' ')} | raw dgram q/s ${raw.map((r) => Math.round(r.qps)).join(' ')}\n`,
      );
      out.push({
        name: `dns ${label}: ${NAMES} names, concurrency ${CONCURRENCY}, throughput`,
        value: qps,
        unit: 'queries/s',
        baseline: { name: 'node dns.promises.Resolver (c-ares)', value: baseQps },
        ratio,
        target: '>= 0.8x c-ares (median of per-round ratios)',
        met: ratio >= 0.8,
      });
      // CPU time per lookup of the resolving process (user + system): unlike wall-clock throughput, it
      // hardly moves when other work shares the machine.
      const cpu = median(spo.map((r) => r.cpuUsPerQuery));
      const baseCpu = median(cares.map((r) => r.cpuUsPerQuery));
      out.push({
        name: `dns ${label}: CPU time per lookup (user + system)`,
        value: cpu,
        unit: 'us',
        baseline: { name: 'node dns.promises.Resolver (c-ares)', value: baseCpu },
        ratio: cpu / baseCpu,
        target: '<= 1.25x c-ares (the CPU form of >= 0.8x throughput)',
        met: cpu / baseCpu <= 1.25,
      });
      const rawQps = median(raw.map((r) => r.qps));
      out.push({
        name: `dns ${label}: bare node:dgram send/receive loop (no DNS logic; the floor of a JS resolver)`,
        value: rawQps,
        unit: 'queries/s',
        baseline: { name: 'node dns.promises.Resolver (c-ares)', value: baseQps },
        ratio: rawQps / baseQps,
        target: 'informative',
      });
      const threads = (rs: WorkerResult[]): string =>
        rs[0]?.mainThreadMs == null
          ? 'n/a'
          : `main ${median(rs.map((r) => r.mainThreadMs as number)).toFixed(1)} ms, other threads ${median(rs.map((r) => r.otherThreadsMs as number)).toFixed(1)} ms`;
      process.stderr.write(`${label}: CPU by thread (medians): spo ${threads(spo)} | c-ares ${threads(cares)}\n`);
      const rss = median(spo.map((r) => r.maxRss)) / 2 ** 20;
      const baseRss = median(cares.map((r) => r.maxRss)) / 2 ** 20;
      out.push({
        name: `dns ${label}: peak RSS of the resolving process`,
        value: rss,
        unit: 'MiB',
        baseline: { name: 'node dns.promises.Resolver (c-ares)', value: baseRss },
        ratio: rss / baseRss,
        target: '<= 2x c-ares',
        met: rss / baseRss <= 2,
      });
      const heap = median(spo.map((r) => r.heapGrowth)) / 2 ** 20;
      const baseHeap = median(cares.map((r) => r.heapGrowth)) / 2 ** 20;
      out.push({
        name: `dns ${label}: JS heap growth during the 5,000 lookups`,
        value: heap,
        unit: 'MiB',
        baseline: { name: 'node dns.promises.Resolver (c-ares)', value: baseHeap },
        ratio: heap / baseHeap,
        target: 'informative (c-ares keeps its state outside the JS heap)',
      });
    }
  } finally {
    await dns.stop();
  }
  return out;
}
