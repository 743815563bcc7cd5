/**
 * The header relay of `spo run` (issue 13).
 *
 * 1. CPU per hot peer per header relayed. K producers (`spo serve`'s server with the same synthetic
 *    chain, in this process) all extend their chains M times, a header every few ms; a worker
 *    process (bench/relay-worker.mjs) holds one hot peer on each (the live node's peer state
 *    actions: connect, handshake, keep-alive, chain-sync) and feeds a HeaderRelay whose chain it
 *    serves to one downstream chain-sync client (in this process), as `spo run` does. Its CPU time
 *    (user + system, from every intersection found to the last header) / (K x M). Baseline in the
 *    same run: the same worker with the hot chain-sync clients only (receive and decode, nothing
 *    relayed).
 *    Also, in this process: the chain's own work (HeaderChain.receive of each header from 10 peers:
 *    the first joins and is hashed, the other nine are found by their bytes) per hot peer per
 *    header, against decoding the header (what every chain-sync client does anyway).
 * 2. End-to-end header latency through a chain of 4 relays on loopback: a producer (in this
 *    process) -> relay 1 -> ... -> relay 4 -> a chain-sync client (in this process); latency = the
 *    client's arrival time minus the producer's `extend()`, one header at a time, idle between.
 *    Measured: 4 `spo run` processes (bin/run.js), each with the previous one as its only local
 *    root. Baseline in the same run: 4 bare TCP forwarders (one process each, piping bytes both
 *    ways, no delay), the client's chain-sync going through them to the producer. Target: within
 *    +2 ms per hop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SyntheticChain } from '../src/net/chain.js';
import { connectPeer } from '../src/net/client.js';
import type { Connection } from '../src/net/connection.js';
import { decodeHeader } from '../src/net/header.js';
import type { ChainSyncEvent } from '../src/net/protocols/chain-sync/client.js';
import { type RunningServer, startServer } from '../src/net/serve.js';
import { HeaderChain } from '../src/node/header-chain.js';
import type { BenchResult } from './run.js';

const MAGIC = 42;
const WORKER = fileURLToPath(new URL('./relay-worker.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lines(child: ChildProcess): AsyncIterator<string> {
  if (!child.stdout) throw new Error('no stdout');
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

async function nextJson(it: AsyncIterator<string>, what: string): Promise<Record<string, number>> {
  const r = await it.next();
  if (r.done) throw new Error(`worker ended before ${what}`);
  return JSON.parse(r.value) as Record<string, number>;
}

async function producers(k: number): Promise<RunningServer[]> {
  return Promise.all(
    Array.from({ length: k }, () =>
      startServer({ host: '127.0.0.1', port: 0, magic: MAGIC, initialBlocks: 3, blockIntervalMs: 0, idleTimeoutMs: 0 }),
    ),
  );
}

/** Follows a peer's chain-sync from its tip, calling `onHeader(slot, arrival)`, until `stop()`. */
async function follow(
  host: string,
  port: number,
  onHeader: (slot: number, at: number) => void,
): Promise<{ conn: Connection; stop: () => Promise<void> }> {
  const conn = await connectPeer({ host, port, magic: MAGIC, connectTimeoutMs: 10_000, handshakeTimeoutMs: 10_000 });
  const cs = conn.chainSyncClient;
  let stopped = false;
  const loop = (async () => {
    try {
      while (!stopped) {
        const ev = await cs.requestNext({ timeoutMs: 600_000 });
        if (ev.type === 'RollForward') onHeader(ev.header.slot, performance.now());
      }
    } catch {
      // the connection was closed by stop()
    }
  })();
  return {
    conn,
    stop: async () => {
      stopped = true;
      conn.abort();
      await loop;
    },
  };
}

// -------------------------------------------------------------------------------------------------
// 1. CPU per hot peer per header

async function cpuRun(mode: 'relay' | 'bare', k: number, m: number): Promise<number> {
  const ps = await producers(k);
  const worker = spawn(process.execPath, [WORKER, mode, String(MAGIC), String(m), ps.map((p) => p.address).join(',')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const it = lines(worker);
  let downstream: { stop: () => Promise<void> } | undefined;
  try {
    const ready = await nextJson(it, 'ready');
    if (mode === 'relay') downstream = await follow('127.0.0.1', ready.port as number, () => undefined);
    const result = nextJson(it, 'the result');
    for (let i = 0; i < m; i++) {
      for (const p of ps) p.chain.extend();
      await pause(4);
    }
    const r = await result;
    return (r.cpuUs as number) / (k * m);
  } finally {
    await downstream?.stop();
    if (worker.exitCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await Promise.all(ps.map((p) => p.close()));
  }
}

// -------------------------------------------------------------------------------------------------
// 2. Latency through a chain of 4

const FORWARDER = `
const net = require('node:net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const server = net.createServer((a) => {
  a.setNoDelay(true);
  const b = net.connect({ host, port });
  b.setNoDelay(true);
  a.pipe(b); b.pipe(a);
  const end = () => { a.destroy(); b.destroy(); };
  a.on('error', end); b.on('error', end); a.on('close', end); b.on('close', end);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

interface Hop {
  port: number;
  child: ChildProcess;
}

async function forwarder(targetPort: number): Promise<Hop> {
  const child = spawn(process.execPath, ['-e', FORWARDER, '127.0.0.1', String(targetPort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await lines(child).next();
  return { port: Number(first.value), child };
}

async function stopAll(hops: Hop[]): Promise<void> {
  for (const h of hops) {
    if (h.child.exitCode !== null) continue;
    h.child.kill('SIGTERM');
    await once(h.child, 'exit');
  }
}

export interface Chain {
  /** The port the end client dials. */
  port: number;
  hops: Hop[];
  /** Resolves when a header sent now would reach the end (e.g. every relay is hot). */
  ready?: () => Promise<void>;
}

/** Latencies (ms) of `n` headers, one at a time, from the producer's extend to the end client. */
async function latencies(producer: RunningServer, chain: Chain, n: number, warm = 5): Promise<number[]> {
  const sent = new Map<number, number>();
  const out: number[] = [];
  let wake: (() => void) | undefined;
  const f = await follow('127.0.0.1', chain.port, (slot, at) => {
    const t = sent.get(slot);
    if (t === undefined) return;
    out.push(at - t);
    sent.delete(slot);
    wake?.();
  });
  try {
    for (let i = 0; i < n + warm; i++) {
      const arrived = new Promise<void>((r) => {
        wake = r;
      });
      const t = performance.now();
      const b = producer.chain.extend();
      sent.set(b.slot, t);
      await Promise.race([arrived, pause(5_000)]);
      await pause(10);
    }
  } finally {
    await f.stop();
  }
  return out.slice(Math.max(0, out.length - n)); // the first few warm the JIT
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const p95 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? Number.NaN;
};

async function forwarderChain(producerPort: number): Promise<Chain> {
  const hops: Hop[] = [];
  let port = producerPort;
  for (let i = 0; i < 4; i++) {
    const h = await forwarder(port);
    hops.push(h);
    port = h.port;
  }
  return { port, hops };
}

/** A relay hop made of the header relay's modules (bench/relay-worker.mjs `chain`), following `upstreamPort`. */
async function moduleHop(upstreamPort: number): Promise<Hop> {
  const child = spawn(process.execPath, [WORKER, 'chain', String(MAGIC), '0', `127.0.0.1:${upstreamPort}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await nextJson(lines(child), 'ready');
  return { port: ready.port as number, child };
}

async function moduleChain(producerPort: number): Promise<Chain> {
  const hops: Hop[] = [];
  let port = producerPort;
  for (let i = 0; i < 4; i++) {
    const h = await moduleHop(port);
    hops.push(h);
    port = h.port;
  }
  return { port, hops };
}

/**
 * `spo run` (bin/run.js) following `upstreamPort` as its only local root (hot valency 1, no
 * ledger peers, targets of one peer); resolves once it listens, with a promise of its local root
 * going hot.
 */
async function spoRunHop(dir: string, i: number, upstreamPorts: number[]): Promise<Hop & { hot: Promise<void> }> {
  const k = upstreamPorts.length;
  const topology = join(dir, `topology-${i}.json`);
  const config = join(dir, `config-${i}.json`);
  const registry = join(dir, 'registry.json');
  writeFileSync(registry, JSON.stringify({ pools: [] })); // no ledger peers
  writeFileSync(
    topology,
    JSON.stringify({
      localRoots: [
        {
          accessPoints: upstreamPorts.map((port) => ({ address: '127.0.0.1', port })),
          advertise: false,
          trustable: true,
          hotValency: k,
        },
      ],
      publicRoots: [],
      useLedgerAfterSlot: -1,
    }),
  );
  writeFileSync(
    config,
    JSON.stringify({
      TargetNumberOfRootPeers: k,
      TargetNumberOfKnownPeers: k,
      TargetNumberOfEstablishedPeers: k,
      TargetNumberOfActivePeers: k,
      TargetNumberOfKnownBigLedgerPeers: 0,
      TargetNumberOfEstablishedBigLedgerPeers: 0,
      TargetNumberOfActiveBigLedgerPeers: 0,
    }),
  );
  const child = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--topology',
      topology,
      '--config',
      config,
      '--port',
      '0',
      '--magic',
      String(MAGIC),
      '--json',
      '--snapshot-interval',
      '60s',
      '--source',
      registry,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
  );
  const it = lines(child);
  let port = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error(`spo run ${i} ended before it listened`);
    const l = JSON.parse(r.value) as { event: string; listening?: string[] };
    if (l.event === 'started') {
      port = Number(/:(\d+)$/.exec(l.listening?.[0] ?? '')?.[1] ?? 0);
      break;
    }
  }
  const hot = (async () => {
    for (let n = 0; n < k; ) {
      const r = await it.next();
      if (r.done) throw new Error(`spo run ${i} ended before its local roots went hot`);
      const l = JSON.parse(r.value) as { event: string; to?: string };
      if (l.event === 'promoted' && l.to === 'hot') n++;
    }
    // drain the rest so the pipe never fills
    void (async () => {
      while (!(await it.next()).done);
    })();
  })();
  return { port, child, hot };
}

async function spoRunChain(producerPort: number, dir: string): Promise<Chain> {
  const hops: Array<Hop & { hot: Promise<void> }> = [];
  let port = producerPort;
  for (let i = 0; i < 4; i++) {
    const h = await spoRunHop(dir, i, [port]);
    hops.push(h);
    port = h.port;
  }
  return { port, hops, ready: async () => void (await Promise.all(hops.map((h) => h.hot))) };
}

/** CPU time (user + system) of a process so far, in µs, from /proc (Linux). */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3): utime and stime are fields 14 and 15
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/**
 * `spo run` (bin/run.js) with K producers as hot local roots and one downstream client: its CPU
 * while M headers arrive (a header every 4 ms on every producer), minus its CPU over an idle
 * stretch as long (its governor, keep-alive, snapshots), per hot peer per header.
 */
async function spoRunCpu(dir: string, k: number, m: number): Promise<number | undefined> {
  const ps = await producers(k);
  const node = await spoRunHop(
    dir,
    100,
    ps.map((p) => p.port),
  );
  let downstream: { stop: () => Promise<void> } | undefined;
  try {
    await node.hot;
    const seen = new Set<number>();
    let wake: (() => void) | undefined;
    downstream = await follow('127.0.0.1', node.port, (slot) => {
      seen.add(slot);
      wake?.();
    });
    const until = async (slot: number): Promise<boolean> => {
      const limit = performance.now() + 10_000;
      while (!seen.has(slot) && performance.now() < limit) {
        await Promise.race([new Promise<void>((r) => (wake = r)), pause(100)]);
      }
      return seen.has(slot);
    };
    // every hot chain-sync has found its place once a header from each has come through
    const first = ps.map((p) => p.chain.extend()).at(-1);
    if (!first || !(await until(first.slot))) return undefined;
    await pause(500);
    const pid = node.child.pid as number;
    const idle0 = processCpuUs(pid);
    const i0 = performance.now();
    await pause(m * 4);
    const idleRate = (processCpuUs(pid) - idle0) / (performance.now() - i0);
    const busy0 = processCpuUs(pid);
    const b0 = performance.now();
    let last = 0;
    for (let i = 0; i < m; i++) {
      for (const p of ps) last = p.chain.extend().slot;
      await pause(4);
    }
    if (!(await until(last))) return undefined;
    const busy = processCpuUs(pid) - busy0 - idleRate * (performance.now() - b0);
    return busy / (k * m);
  } finally {
    await downstream?.stop();
    await stopAll([node]);
    await Promise.all(ps.map((p) => p.close()));
  }
}

/** Whether a header reaches the end of the chain at all (within 5 s). */
async function relays(producer: RunningServer, chain: Chain): Promise<boolean> {
  await chain.ready?.();
  const got = await latencies(producer, chain, 1, 0);
  return got.length > 0;
}

/** µs per hot peer per header: [HeaderChain.receive, decodeHeader], K copies of each of M headers. */
function chainWork(k: number, m: number): [number, number] {
  const source = new SyntheticChain();
  for (let i = 0; i < m; i++) source.extend();
  const events = (): ChainSyncEvent[][] =>
    source.blocks.map((b) =>
      Array.from({ length: k }, () => ({
        type: 'RollForward' as const,
        header: decodeHeader(b.header),
        tip: { point: null, blockNo: 0 },
        at: 0,
        awaited: false,
      })),
    );
  let best = Number.POSITIVE_INFINITY;
  let decode = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 5; rep++) {
    const evs = events();
    const chain = new HeaderChain();
    const t0 = performance.now();
    for (const copies of evs) for (const [i, ev] of copies.entries()) chain.receive(`p${i}`, ev, 0);
    best = Math.min(best, ((performance.now() - t0) * 1000) / (k * m));
    const t1 = performance.now();
    for (const b of source.blocks) for (let i = 0; i < k; i++) decodeHeader(b.header);
    decode = Math.min(decode, ((performance.now() - t1) * 1000) / (k * m));
  }
  return [best, decode];
}

export default async function relayBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const [work, decode] = chainWork(10, 2000);
  results.push({
    name: 'HeaderChain.receive per hot peer per header (in process; 10 peers, 2,000 headers)',
    value: work,
    unit: 'µs',
    baseline: { name: 'decodeHeader of the same header', value: decode },
    ratio: work / decode,
  });
  const K = 10;
  const M = 300;
  const bare: number[] = [];
  const relay: number[] = [];
  for (let rep = 0; rep < 2; rep++) {
    bare.push(await cpuRun('bare', K, M));
    relay.push(await cpuRun('relay', K, M));
  }
  const b = Math.min(...bare);
  const r = Math.min(...relay);
  results.push({
    name: `CPU per hot peer per header relayed (${K} hot peers, ${M} headers, 1 downstream)`,
    value: r,
    unit: 'µs',
    baseline: { name: 'hot chain-sync clients only (receive, decode)', value: b },
    ratio: r / b,
  });

  const N = 100;
  const producer = (await producers(1))[0] as RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'spo-relay-bench-'));
  const measure = async (make: () => Promise<Chain>): Promise<number[] | undefined> => {
    const chain = await make();
    try {
      if (!(await relays(producer, chain))) return undefined;
      return await latencies(producer, chain, N);
    } finally {
      await stopAll(chain.hops);
    }
  };
  try {
    const runCpu = await spoRunCpu(dir, K, 500);
    if (runCpu !== undefined) {
      results.push({
        name: `spo run: CPU per hot peer per header relayed (${K} hot local roots, 500 headers, 1 downstream; its idle CPU subtracted)`,
        value: runCpu,
        unit: 'µs',
        baseline: { name: 'hot chain-sync clients only (receive, decode; the worker above)', value: b },
        ratio: runCpu / b,
      });
    } else {
      process.stderr.write('spo run: the headers did not come through; no CPU figure\n');
    }
    const fwd = (await measure(() => forwarderChain(producer.port))) ?? [];
    const baseline = { name: '4 bare TCP forwarders (median)', value: median(fwd) };
    results.push({
      name: `header latency through 4 bare TCP forwarders (median of ${N}; p95 ${p95(fwd).toFixed(2)} ms)`,
      value: median(fwd),
      unit: 'ms',
    });
    const perHop = (xs: number[]): number => (median(xs) - median(fwd)) / 4;
    const mods = await measure(() => moduleChain(producer.port));
    if (mods) {
      results.push({
        name: `header latency through 4 relay processes of the header relay's modules (peer state actions + HeaderRelay + spo serve's responders; median of ${N}; p95 ${p95(mods).toFixed(2)} ms; +${perHop(mods).toFixed(2)} ms per hop)`,
        value: median(mods),
        unit: 'ms',
        baseline,
        ratio: median(mods) / median(fwd),
        target: 'within +2 ms per hop',
        met: perHop(mods) <= 2,
      });
    }
    const runs = await measure(() => spoRunChain(producer.port, dir));
    if (runs) {
      results.push({
        name: `header latency through 4 spo run nodes (median of ${N}; p95 ${p95(runs).toFixed(2)} ms; +${perHop(runs).toFixed(2)} ms per hop)`,
        value: median(runs),
        unit: 'ms',
        baseline,
        ratio: median(runs) / median(fwd),
        target: 'within +2 ms per hop',
        met: perHop(runs) <= 2,
      });
    } else {
      process.stderr.write(
        'spo run: no header reached the end of the chain of 4 (is the header relay wired into spo run?)\n',
      );
    }
  } finally {
    await producer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
