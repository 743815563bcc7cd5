/**
 * Soak of `spo run` (issue 13): one node for SPO_SOAK_MINUTES (default 10) against ten `spo serve`
 * producers on loopback (one a local root, the others ledger peers), churn sped up to every 5 s so
 * that connections are opened, promoted, demoted and closed again and again (a cycle still waits for
 * each of its steps: measured, 6 cycles, 21 promotions and 11 demotions in 10 minutes). Every 10 s the node's
 * resident memory (/proc/PID/status VmRSS) and open file descriptors (/proc/PID/fd) are sampled;
 * after the warm-up (the first fifth) they should stay flat: the figures are the last and the
 * largest sample against the one at the end of the warm-up. Linux only (/proc).
 *
 *   npm run bench -- run-soak                  # 10 minutes
 *   SPO_SOAK_MINUTES=2 npm run bench -- run-soak
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './run.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const MAGIC = 4343;
const PRODUCERS = 10;
const SAMPLE_MS = 10_000;

interface Child {
  process: ChildProcess;
  /** Every JSON line printed so far. */
  lines: Array<Record<string, unknown>>;
  first: Promise<Record<string, unknown>>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bin/run.js ${args[0]} exited ${code} before its first line`)));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line === '') continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (lines.length === 1) resolve(parsed);
      }
    });
  });
  return { process: child, lines, first };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function waitMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export default async function runSoak(): Promise<BenchResult[]> {
  const minutes = Number(process.env.SPO_SOAK_MINUTES ?? 10);
  const durationMs = minutes * 60_000;
  const warmupMs = durationMs / 5;
  const dir = mkdtempSync(join(tmpdir(), 'spo-soak-'));
  const children: Child[] = [];
  try {
    for (let i = 0; i < PRODUCERS; i++) {
      children.push(start(['serve', '--port', '0', '--magic', String(MAGIC), '--block-interval', '1s', '--json']));
    }
    const ports = await Promise.all(children.map(async (c) => Number((await c.first).port)));
    writeFileSync(
      join(dir, 'registry.json'),
      JSON.stringify({
        pools: ports.slice(1).map((port, i) => ({
          id: `pool${i}`,
          stake: 1 / (PRODUCERS - 1),
          relays: [{ kind: 'ipv4', host: '127.0.0.1', port }],
        })),
      }),
    );
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        TargetNumberOfRootPeers: 10,
        TargetNumberOfKnownPeers: 10,
        TargetNumberOfEstablishedPeers: 6,
        TargetNumberOfActivePeers: 4,
        TargetNumberOfKnownBigLedgerPeers: 0,
        TargetNumberOfEstablishedBigLedgerPeers: 0,
        TargetNumberOfActiveBigLedgerPeers: 0,
      }),
    );
    writeFileSync(
      join(dir, 'topology.json'),
      JSON.stringify({
        localRoots: [
          {
            accessPoints: [{ address: '127.0.0.1', port: ports[0] }],
            advertise: false,
            trustable: true,
            hotValency: 1,
          },
        ],
        publicRoots: [],
        useLedgerAfterSlot: 0,
      }),
    );
    const node = start([
      'run',
      '--topology',
      join(dir, 'topology.json'),
      '--config',
      join(dir, 'config.json'),
      '--port',
      '0',
      '--magic',
      String(MAGIC),
      '--source',
      join(dir, 'registry.json'),
      '--allow-private-peers',
      '--churn-interval',
      '5s',
      '--snapshot-interval',
      '10s',
      '--seed',
      '1',
      '--json',
    ]);
    children.push(node);
    await node.first;
    const pid = node.process.pid as number;
    const samples: Array<{ atMs: number; rssKiB: number; fds: number }> = [];
    const t0 = performance.now();
    for (let at = 0; at <= durationMs; at += SAMPLE_MS) {
      const wait = t0 + at - performance.now();
      if (wait > 0) await waitMs(wait);
      if (node.process.exitCode !== null) throw new Error(`spo run exited ${node.process.exitCode} during the soak`);
      samples.push({ atMs: Math.round(performance.now() - t0), rssKiB: rssKiB(pid), fds: openFds(pid) });
      process.stderr.write(
        `  ${(samples.at(-1)?.atMs ?? 0) / 1000} s: RSS ${((samples.at(-1)?.rssKiB ?? 0) / 1024).toFixed(1)} MiB, ${samples.at(-1)?.fds} fds\n`,
      );
    }
    const count = (pred: (l: Record<string, unknown>) => boolean): number => node.lines.filter(pred).length;
    const churn = count((l) => l.event === 'churn');
    const byAction = new Map<string, number>();
    for (const l of node.lines)
      if (l.event === 'churn') byAction.set(String(l.action), (byAction.get(String(l.action)) ?? 0) + 1);
    process.stderr.write(`  churn steps by action: ${JSON.stringify(Object.fromEntries(byAction))}\n`);
    const promotions = count((l) => l.event === 'promoted');
    const demotions = count((l) => l.event === 'demoted');
    const headers = count((l) => l.event === 'header');
    process.stderr.write(
      `  ${minutes} min: ${churn} churn steps, ${promotions} promotions, ${demotions} demotions, ${headers} headers relayed\n`,
    );
    const after = samples.filter((s) => s.atMs >= warmupMs);
    const warm = after[0] as (typeof samples)[number];
    const last = samples.at(-1) as (typeof samples)[number];
    const maxRss = Math.max(...after.map((s) => s.rssKiB));
    const maxFds = Math.max(...after.map((s) => s.fds));
    const mib = (k: number): number => k / 1024;
    return [
      {
        name: `spo run soak ${minutes} min, RSS at the end (churn every 5 s; ${churn} churn steps, ${promotions} promotions, ${demotions} demotions, ${headers} headers)`,
        value: mib(last.rssKiB),
        unit: 'MiB',
        baseline: { name: `RSS after the warm-up (${warmupMs / 1000} s)`, value: mib(warm.rssKiB) },
        ratio: last.rssKiB / warm.rssKiB,
        target: '<= 1.2 (flat after warm-up)',
        met: last.rssKiB / warm.rssKiB <= 1.2,
      },
      {
        name: `spo run soak ${minutes} min, largest RSS after the warm-up`,
        value: mib(maxRss),
        unit: 'MiB',
        baseline: { name: 'RSS after the warm-up', value: mib(warm.rssKiB) },
        ratio: maxRss / warm.rssKiB,
      },
      {
        name: `spo run soak ${minutes} min, open file descriptors at the end`,
        value: last.fds,
        unit: 'fds',
        baseline: { name: 'after the warm-up', value: warm.fds },
        ratio: last.fds / warm.fds,
        target: `<= after the warm-up + 2 (largest seen ${maxFds})`,
        met: last.fds <= warm.fds + 2,
      },
    ];
  } finally {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGTERM');
    await Promise.all(
      children.map((c) =>
        c.process.exitCode === null ? new Promise((resolve) => c.process.once('exit', resolve)) : undefined,
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
