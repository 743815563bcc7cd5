/**
 * Probe benchmark (issue 5): 2,000 loopback endpoints hosted by a child process (5% accept and never
 * answer, 5% refuse, the rest answer the handshake after a random 20-200 ms), probed by the real
 * pipeline (src/probe scheduler + src/net client) at the default concurrency.
 * - Target: wall time <= 1.25x the floor = the stage timeout + the slowest batch at the chosen
 *   concurrency (slowest answer, 200 ms, times the number of batches), and peak RSS < 250 MB.
 * - Baseline, same run: the same endpoints probed one at a time (handshake only, the stage timeout
 *   as cncli's --timeout-seconds), as the scripts around `cncli ping` do. It runs on a stratified
 *   sample (BENCH_SEQ_SAMPLE, default 200 endpoints with the same mix) and is extrapolated to 2,000.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProbeCollector } from '../src/probe/aggregate.js';
import { attemptDeadline, createStageFunction } from '../src/probe/attempt.js';
import { effectiveConcurrency, openFileLimit } from '../src/probe/limits.js';
import type { ProbeTarget } from '../src/probe/model.js';
import { loadConnector } from '../src/probe/net-client.js';
import { probeEndpoints, type RetryPolicy } from '../src/probe/scheduler.js';
import type { BenchResult } from './run.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const COUNT = Number(process.env.BENCH_PROBE_COUNT ?? 2000);
const STAGE_TIMEOUT_MS = Number(process.env.BENCH_PROBE_TIMEOUT_MS ?? 2000);
const SEQ_SAMPLE = Number(process.env.BENCH_SEQ_SAMPLE ?? 200);
const MAGIC = 764824073;
const MAX_DELAY_MS = 200;

interface Listeners {
  ok: number[];
  silent: number[];
  refused: number[];
  delays: number[];
}

async function startListeners(): Promise<{ ports: Listeners; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/probe-listeners.ts', String(COUNT), String(MAGIC), '7'],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.once('exit', (code) => reject(new Error(`listener process exited ${code}`)));
  });
  return { ports: JSON.parse(line) as Listeners, stop: () => child.kill('SIGKILL') };
}

const target = (port: number): ProbeTarget => ({
  pool: `p${port}`,
  relay: { kind: 'ipv4', host: '127.0.0.1', port },
});

export default async function probeBench(): Promise<BenchResult[]> {
  const connect = await loadConnector();
  const { ports, stop } = await startListeners();
  try {
    const all = [...ports.ok, ...ports.silent, ...ports.refused];
    // Interleave so that slow, silent and refused endpoints are spread through the run as in a registry.
    all.sort((a, b) => ((a * 2654435761) % 1000) - ((b * 2654435761) % 1000));
    // BENCH_PROBE_CONCURRENCY: a lower concurrency (as a low `ulimit -n` would impose), to see the batches.
    const asked = process.env.BENCH_PROBE_CONCURRENCY;
    const conc = effectiveConcurrency(asked === undefined ? undefined : Number(asked)).value;
    const samples = 3;
    const attempt = createStageFunction({
      connect,
      magic: MAGIC,
      stageTimeoutMs: STAGE_TIMEOUT_MS,
      samples,
      tip: false,
    });

    const run = async (retry: RetryPolicy) => {
      // Peak memory sampled through the run (the prober process; the listeners live in the child).
      if (global.gc) global.gc();
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 20);
      const collector = new ProbeCollector();
      let lastOkMs = 0;
      const t0 = performance.now();
      for await (const r of probeEndpoints(all.map(target), {
        resolve: async (relay) => [{ address: relay.host, port: relay.port as number, family: 4 }],
        attempt,
        concurrency: conc,
        attemptDeadlineMs: attemptDeadline({ stageTimeoutMs: STAGE_TIMEOUT_MS, samples, tip: false }),
        stageTimeoutMs: STAGE_TIMEOUT_MS,
        retry,
      })) {
        if (r.status === 'ok') lastOkMs = performance.now() - t0;
        collector.add(r);
      }
      const wallMs = performance.now() - t0;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const report = collector.finish(wallMs);
      const s = report.summary;
      const byPort = new Map(report.addresses.map((r) => [r.port, r.status]));
      const wrongOk = ports.ok.filter((p) => byPort.get(p) !== 'ok').length;
      const wrongSilent = ports.silent.filter((p) => byPort.get(p) !== 'HANDSHAKE_TIMEOUT').length;
      const wrongRefused = ports.refused.filter((p) => byPort.get(p) !== 'CONNECT_REFUSED').length;
      process.stderr.write(
        `parallel (--retry ${retry}): ${COUNT} endpoints, concurrency ${conc}, ulimit -n ${openFileLimit()}, load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}, ${(wallMs / 1000).toFixed(2)} s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, ` +
          `${s.ok} ok, byStatus ${JSON.stringify(s.byStatus)}, misreported ok/silent/refused: ${wrongOk}/${wrongSilent}/${wrongRefused}, retried ${s.retried}\n`,
      );
      process.stderr.write(
        `  last answering endpoint done at ${(lastOkMs / 1000).toFixed(2)} s (the measured slowest batch)\n`,
      );
      return { wallMs, peakRss, lastOkMs, wrong: wrongOk + wrongSilent + wrongRefused };
    };
    // The default (--retry auto), then without retries: the scheduler alone, whatever the load says.
    const { wallMs, peakRss, lastOkMs, wrong } = await run('auto');
    const never = await run('never');

    // The real command: bin/run.js probing a peer-snapshot v2 file of the same 2,000 endpoints,
    // wall time and peak RSS from /usr/bin/time; its start-up measured alone (`spo probe --help`).
    const dir = mkdtempSync(join(tmpdir(), 'spo-probe-bench-'));
    const registry = join(dir, 'snapshot.json');
    writeFileSync(
      registry,
      JSON.stringify({
        version: 2,
        slotNo: 1,
        bigLedgerPools: all.map((port) => ({
          accumulatedStake: 1,
          relativeStake: 1 / all.length,
          relays: [{ address: '127.0.0.1', port }],
        })),
      }),
    );
    const timed = (args: string[]): { ms: number; maxRssKiB: number; code: number | null } => {
      const t = performance.now();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BIN, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', CI: 'true' },
        maxBuffer: 64 * 2 ** 20,
      });
      const ms = performance.now() - t;
      const lines = r.stderr.trim().split('\n');
      return { ms, maxRssKiB: Number(lines[lines.length - 1]), code: r.status };
    };
    const startup = timed(['probe', '--help']);
    const cli = timed([
      'probe',
      '--source',
      registry,
      '--include-unusable',
      '--timeout',
      `${STAGE_TIMEOUT_MS}ms`,
      '--json',
      '--out',
      join(dir, 'out.json'),
    ]);
    const cliDoc = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
      summary: { ok: number; byStatus: unknown };
    };
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(
      `bin/run.js probe: exit ${cli.code}, ${(cli.ms / 1000).toFixed(2)} s, max RSS ${(cli.maxRssKiB / 1024).toFixed(0)} MiB, ` +
        `${cliDoc.summary.ok} ok ${JSON.stringify(cliDoc.summary.byStatus)}; start-up alone ${(startup.ms / 1000).toFixed(2)} s\n`,
    );
    const batches = Math.ceil(COUNT / conc);
    const floorMs = STAGE_TIMEOUT_MS + batches * MAX_DELAY_MS;

    // Sequential baseline on a stratified sample: same mix of ok, silent and refused endpoints.
    const frac = Math.min(1, SEQ_SAMPLE / COUNT);
    const pick = (xs: number[]): number[] => xs.slice(0, Math.max(1, Math.round(xs.length * frac)));
    const sample = [...pick(ports.ok), ...pick(ports.silent), ...pick(ports.refused)];
    const seqAttempt = createStageFunction({
      connect,
      magic: MAGIC,
      stageTimeoutMs: STAGE_TIMEOUT_MS,
      samples: 0,
      tip: false,
    });
    const t1 = performance.now();
    let seqOk = 0;
    for (const port of sample) {
      const ac = new AbortController();
      const o = await seqAttempt({ address: '127.0.0.1', port, family: 4 }, { signal: ac.signal, stage: () => {} });
      ac.abort();
      if (o.status === 'ok') seqOk++;
    }
    const seqSampleMs = performance.now() - t1;
    const seqMs = (seqSampleMs * COUNT) / sample.length;
    process.stderr.write(
      `sequential: ${sample.length} endpoints (${seqOk} ok) in ${(seqSampleMs / 1000).toFixed(2)} s, extrapolated to ${COUNT}: ${(seqMs / 1000).toFixed(1)} s\n`,
    );
    return [
      {
        name: `probe ${COUNT} loopback endpoints wall time (concurrency ${conc}, timeout ${STAGE_TIMEOUT_MS} ms)`,
        value: wallMs / 1000,
        unit: 's',
        baseline: { name: `floor: timeout + ${batches} batch(es) x ${MAX_DELAY_MS} ms`, value: floorMs / 1000 },
        ratio: wallMs / floorMs,
        target: '<= 1.25x floor',
        met: wallMs / floorMs <= 1.25,
      },
      {
        name: 'same run against the floor with the slowest batch as measured (timeout + last answering endpoint done)',
        value: wallMs / 1000,
        unit: 's',
        baseline: { name: 'timeout + measured slowest batch', value: (STAGE_TIMEOUT_MS + lastOkMs) / 1000 },
        ratio: wallMs / (STAGE_TIMEOUT_MS + lastOkMs),
        target: '<= 1.25x (looser reading of the floor: under CPU load a batch takes longer than 200 ms)',
        met: wallMs / (STAGE_TIMEOUT_MS + lastOkMs) <= 1.25,
      },
      {
        name: 'bin/run.js probe --source <2,000-relay snapshot> --json --out (whole command, minus its start-up)',
        value: (cli.ms - startup.ms) / 1000,
        unit: 's',
        baseline: { name: `floor: timeout + ${batches} batch(es) x ${MAX_DELAY_MS} ms`, value: floorMs / 1000 },
        ratio: (cli.ms - startup.ms) / floorMs,
        target: '<= 1.25x floor',
        met: (cli.ms - startup.ms) / floorMs <= 1.25,
      },
      {
        name: 'bin/run.js probe max RSS',
        value: cli.maxRssKiB / 1024,
        unit: 'MiB',
        target: '< 250 MB',
        met: cli.maxRssKiB * 1024 < 250e6,
      },
      {
        name: 'probe peak RSS',
        value: Math.max(peakRss, never.peakRss) / 2 ** 20,
        unit: 'MiB',
        target: '< 250 MB',
        met: Math.max(peakRss, never.peakRss) < 250e6,
      },
      {
        name: 'probe misreported endpoints (reachable reported failed, or wrong reason)',
        value: wrong + never.wrong,
        unit: 'endpoints',
        target: '0',
        met: wrong + never.wrong === 0,
      },
      {
        name: `probe ${COUNT} loopback endpoints wall time, --retry never`,
        value: never.wallMs / 1000,
        unit: 's',
        baseline: { name: `floor: timeout + ${batches} batch(es) x ${MAX_DELAY_MS} ms`, value: floorMs / 1000 },
        ratio: never.wallMs / floorMs,
        target: '<= 1.25x floor',
        met: never.wallMs / floorMs <= 1.25,
      },
      {
        name: `sequential one-at-a-time (cncli-ping style, handshake only) on ${sample.length} endpoints, extrapolated to ${COUNT}`,
        value: seqMs / 1000,
        unit: 's',
        baseline: { name: 'spo probe wall time', value: wallMs / 1000 },
        ratio: seqMs / wallMs,
        target: 'speed-up of spo probe (ratio = sequential / parallel)',
      },
    ];
  } finally {
    stop();
  }
}
