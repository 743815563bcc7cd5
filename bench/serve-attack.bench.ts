/**
 * Issue 16: `spo serve` (bin/run.js, a separate process) under attack on loopback, while a
 * well-behaved client in this process keeps one connection and asks keep-alive every 50 ms, and
 * also dials a fresh connection every second. Attackers run in child processes
 * (`bench/serve-attacker.ts`): 100 connections of each kind (trickle, amplify, idle, junk), one
 * kind at a time and then all four at once, plus a single trickling connection for the CPU
 * figure, and a baseline without attackers in the same run. Attackers run at nice 19 (a remote
 * attacker does not take the server's CPU; on this one machine they would). Measured from /proc: the server's CPU seconds during the window and its peak RSS
 * (VmHWM); from the client: keep-alive round trips (median, p99, max, how many over 100 ms or
 * failed). Targets (issue 16): every keep-alive answered within 100 ms, RSS under 300 MB.
 *
 * A server whose RSS passes 2 GB is killed (the figure then says so), so an unfixed build can be
 * measured too: SPO_ATTACK_ROOT=/path/to/other/checkout (with a built dist/) runs that spo serve.
 * SPO_ATTACK_WINDOW_MS (default 15000) and SPO_ATTACK_SCENARIOS (e.g. "trickle1,amplify") narrow it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connectPeer, type PeerConnection } from '../src/net/client.js';
import type { BenchResult } from './run.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = process.env.SPO_ATTACK_ROOT ?? fileURLToPath(new URL('..', import.meta.url));
const WINDOW_MS = Number(process.env.SPO_ATTACK_WINDOW_MS ?? 15_000);
const MAGIC = 2;
const KILL_RSS_MB = 2048;
const CLK_TCK = 100;

interface Scenario {
  name: string;
  attackers: Array<{ kind: string; count: number }>;
}

const SCENARIOS: Scenario[] = [
  { name: 'baseline', attackers: [] },
  { name: 'trickle1', attackers: [{ kind: 'trickle', count: 1 }] },
  { name: 'trickle', attackers: [{ kind: 'trickle', count: 100 }] },
  { name: 'amplify', attackers: [{ kind: 'amplify', count: 100 }] },
  { name: 'idle', attackers: [{ kind: 'idle', count: 100 }] },
  { name: 'junk', attackers: [{ kind: 'junk', count: 100 }] },
  {
    name: 'all',
    attackers: ['trickle', 'amplify', 'idle', 'junk'].map((kind) => ({ kind, count: 100 })),
  },
];

function proc(pid: number): { cpuS: number; rssMB: number; hwmMB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime (fields 14, 15)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { cpuS, rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: string): void => {
      out += d;
      if (out.includes('\n')) {
        child.stdout?.off('data', onData);
        resolve(out.split('\n')[0] as string);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('exit', (c) => reject(new Error(`child exited ${c}: ${out}`)));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

interface Outcome {
  scenario: string;
  cpuS: number;
  peakRssMB: number;
  killed: boolean;
  rtts: number[];
  failures: number;
  freshMs: number[];
  freshFailures: number;
  attackers: unknown[];
  errors: string[];
}

async function run(sc: Scenario): Promise<Outcome> {
  const serve = spawn(
    process.execPath,
    [`${ROOT}bin/run.js`, 'serve', '--port', '0', '--json', '--magic', String(MAGIC), '--block-interval', '1s'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const hello = JSON.parse(await firstLine(serve)) as { port: number };
  const pid = serve.pid as number;
  serve.stdout?.resume();
  let killed = false;
  const watchdog = setInterval(() => {
    const p = proc(pid);
    if (p && p.rssMB > KILL_RSS_MB && !killed) {
      killed = true;
      serve.kill('SIGKILL');
    }
  }, 100);

  const attackers = sc.attackers.map(({ kind, count }) => {
    // The attackers yield the CPU (nice 19): on one shared machine they would otherwise take the
    // cores the server and the measuring client need, which a remote attacker does not.
    const child = spawn(
      'nice',
      [
        '-n',
        '19',
        process.execPath,
        '--import',
        'tsx',
        `${HERE}serve-attacker.ts`,
        kind,
        String(count),
        String(hello.port),
        String(MAGIC),
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const done = new Promise<unknown>((r) =>
      child.once('exit', () => {
        try {
          r(JSON.parse(out.trim().split('\n').pop() ?? '{}'));
        } catch {
          r({ kind, output: out });
        }
      }),
    );
    return { child, done };
  });

  await sleep(3000); // the attack is under way before the well-behaved client arrives
  const before = proc(pid);
  const rtts: number[] = [];
  const freshMs: number[] = [];
  let failures = 0;
  let freshFailures = 0;
  const errors: string[] = [];
  const dial = (): Promise<PeerConnection> =>
    connectPeer({
      host: '127.0.0.1',
      port: hello.port,
      magic: MAGIC,
      connectTimeoutMs: 2000,
      handshakeTimeoutMs: 2000,
    });
  let conn: PeerConnection | undefined;
  const end = Date.now() + WINDOW_MS;
  let nextFresh = Date.now() + 1000;
  let cookie = 0;
  while (Date.now() < end && !killed) {
    try {
      conn ??= await dial();
      const t0 = performance.now();
      await conn.keepAlive(++cookie & 0xffff, 2000);
      rtts.push(performance.now() - t0);
    } catch (e) {
      failures++;
      if (errors.length < 3) errors.push(String(e));
      conn?.abort();
      conn = undefined;
    }
    if (Date.now() >= nextFresh) {
      nextFresh += 1000;
      const t0 = performance.now();
      try {
        const c = await dial();
        await c.keepAlive(1, 2000);
        freshMs.push(performance.now() - t0);
        c.abort();
      } catch (e) {
        freshFailures++;
        if (errors.length < 3) errors.push(String(e));
      }
    }
    await sleep(50);
  }
  const after = proc(pid);
  conn?.abort();
  for (const a of attackers) a.child.kill('SIGTERM');
  // A child still busy after 5 s is killed (a swamped server, say, takes long to close).
  const hard = (c: ChildProcess): NodeJS.Timeout => setTimeout(() => c.kill('SIGKILL'), 5000);
  const attackerTimers = attackers.map((a) => hard(a.child));
  const attackerStats = await Promise.all(attackers.map((a) => a.done));
  for (const t of attackerTimers) clearTimeout(t);
  clearInterval(watchdog);
  const peak = proc(pid)?.hwmMB ?? (killed ? KILL_RSS_MB : Number.NaN);
  serve.kill('SIGTERM');
  const serveTimer = hard(serve);
  await new Promise((r) => (serve.exitCode !== null || serve.signalCode !== null ? r(null) : serve.once('exit', r)));
  clearTimeout(serveTimer);
  return {
    scenario: sc.name,
    cpuS: before && after ? after.cpuS - before.cpuS : Number.NaN,
    peakRssMB: killed ? KILL_RSS_MB : peak,
    killed,
    rtts,
    failures,
    freshMs,
    freshFailures,
    attackers: attackerStats,
    errors,
  };
}

export default async function bench(): Promise<BenchResult[]> {
  const only = process.env.SPO_ATTACK_SCENARIOS?.split(',');
  const results: BenchResult[] = [];
  process.stderr.write(`spo serve from ${ROOT}, window ${WINDOW_MS} ms\n`);
  for (const sc of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
    const o = await run(sc);
    const over = o.rtts.filter((r) => r > 100).length;
    process.stderr.write(
      `${JSON.stringify({
        load: loadavg()
          .map((l) => l.toFixed(1))
          .join(' '),
        ...o,
        rtts: undefined,
        freshMs: undefined,
        keepAlives: o.rtts.length,
        over100ms: over,
        p50: quantile(o.rtts, 0.5),
        p99: quantile(o.rtts, 0.99),
        max: quantile(o.rtts, 1),
        freshMax: quantile(o.freshMs, 1),
      })}\n`,
    );
    const label =
      sc.attackers.length === 0
        ? 'serve, no attack (baseline)'
        : `serve under ${sc.attackers.map((a) => `${a.count} ${a.kind}`).join(' + ')}`;
    results.push({
      name: `${label}: server CPU during ${WINDOW_MS / 1000} s`,
      value: o.cpuS,
      unit: 'CPU-s',
    });
    results.push({
      name: `${label}: server peak RSS${o.killed ? ' (killed at the 2 GB cap)' : ''}`,
      value: o.peakRssMB,
      unit: 'MB',
      target: '< 300 MB',
      met: !o.killed && o.peakRssMB < 300,
    });
    results.push({
      name: `${label}: slowest keep-alive of ${o.rtts.length} (${over} over 100 ms, ${o.failures} failed; p99 ${quantile(o.rtts, 0.99).toFixed(1)} ms)`,
      value: o.rtts.length ? quantile(o.rtts, 1) : Number.NaN,
      unit: 'ms',
      target: 'every keep-alive within 100 ms',
      met: o.rtts.length > 0 && over === 0 && o.failures === 0,
    });
    results.push({
      name: `${label}: slowest fresh dial + handshake + keep-alive of ${o.freshMs.length} (${o.freshFailures} failed)`,
      value: o.freshMs.length ? quantile(o.freshMs, 1) : Number.NaN,
      unit: 'ms',
    });
  }
  return results;
}
