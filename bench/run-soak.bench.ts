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
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JsonLine, JsonLinesProcess } from '../test/lib/json-lines.js';
import { spoRunArgs } from '../test/lib/run-args.js';
import type { BenchResult } from './run.js';

const MAGIC = 4343;
const PRODUCERS = 10;
const SAMPLE_MS = 10_000;

/** A child printing JSON lines, bounded to the soak's length and a margin. */
function start(args: string[], durationMs: number): JsonLinesProcess {
  return new JsonLinesProcess(`bin/run.js ${args[0]}`, args, {
    timeoutMs: durationMs + 120_000,
    waitTimeoutMs: 60_000,
  });
}

const firstLine = (c: JsonLinesProcess): Promise<JsonLine> => c.until('its first line', () => true);

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
  const children: JsonLinesProcess[] = [];
  try {
    for (let i = 0; i < PRODUCERS; i++) {
      children.push(
        start(['serve', '--port', '0', '--magic', String(MAGIC), '--block-interval', '1s', '--json'], durationMs),
      );
    }
    const ports = await Promise.all(children.map(async (c) => Number((await firstLine(c)).port)));
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
    const node = start(
      spoRunArgs({
        topology: join(dir, 'topology.json'),
        config: join(dir, 'config.json'),
        magic: MAGIC,
        source: join(dir, 'registry.json'),
        allowPrivatePeers: true,
        churnInterval: '5s',
        snapshotInterval: '10s',
        seed: 1,
      }),
      durationMs,
    );
    children.push(node);
    await firstLine(node);
    const pid = node.pid as number;
    const samples: Array<{ atMs: number; rssKiB: number; fds: number }> = [];
    const t0 = performance.now();
    for (let at = 0; at <= durationMs; at += SAMPLE_MS) {
      const wait = t0 + at - performance.now();
      if (wait > 0) await waitMs(wait);
      if (!node.running) throw new Error(`spo run exited ${node.child.exitCode} during the soak`);
      samples.push({ atMs: Math.round(performance.now() - t0), rssKiB: rssKiB(pid), fds: openFds(pid) });
      process.stderr.write(
        `  ${(samples.at(-1)?.atMs ?? 0) / 1000} s: RSS ${((samples.at(-1)?.rssKiB ?? 0) / 1024).toFixed(1)} MiB, ${samples.at(-1)?.fds} fds\n`,
      );
    }
    const count = (pred: (l: JsonLine) => boolean): number => node.lines.filter(pred).length;
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
    await Promise.all(children.map((c) => c.stop('SIGTERM')));
    rmSync(dir, { recursive: true, force: true });
  }
}
