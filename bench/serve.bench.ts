/**
 * The live server's shell (issue 12): cost per accepted connection and the full flood.
 *
 * 1. Cost per accepted connection, as a ratio against a bare `net.Server` accept loop in the same
 *    run. One cycle = a client connects, sends the handshake proposal, waits for the first byte
 *    back and resets the connection; 20 clients at a time, 2,000 cycles. Baseline: a bare
 *    `net.Server` that writes one byte back on the first data. Measured: the accept loop
 *    (`startAcceptLoops`, AcceptedConnectionsLimit 512/384/5 s, below the soft limit) handing each
 *    socket to the connection manager shell, which runs the mux and the handshake (an answer to the
 *    proposal), the inbound governor's tracking and the cores' traces, then sees the reset.
 * 2. The flood of issue 12 against `spo serve` (bin/run.js) with the node's limits: 2,000 attempts
 *    at once, each completing the handshake and then idle, while a well-behaved client connected
 *    before the flood runs keep-alive every 100 ms. Reported: the most inbound connections held
 *    (never above 512), the accept log's ramp and block checks, keep-alive RTT (max and p99), the
 *    server's peak RSS and how long until every attempt ended.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { SyntheticChain } from '../src/net/chain.js';
import { nodeResponders } from '../src/net/protocols/responders.js';
import { ConnectionManager } from '../src/node/connection-manager/shell.js';
import { startAcceptLoops } from '../src/node/server/accept-loop.js';
import { acceptLogErrors, flood, proposalSegment, startServe } from '../test/node/flood.js';
import type { BenchResult } from './run.js';

const CYCLES = 2_000;
const CONCURRENCY = 20;

/** Runs CYCLES connect-propose-answer-reset cycles against port; returns wall ms. */
async function cycles(port: number): Promise<number> {
  const segment = proposalSegment(2);
  let left = CYCLES;
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const s: Socket = connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      s.once('connect', () => s.write(segment));
      s.once('data', () => s.resetAndDestroy());
      s.once('close', () => resolve());
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left > 0) {
        left--;
        await one();
      }
    }),
  );
  return performance.now() - started;
}

async function bare(): Promise<number> {
  const server: Server = createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.write(Buffer.from([0])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await cycles(port);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function shell(): Promise<number> {
  const chain = new SyntheticChain();
  chain.extend();
  const cm = new ConnectionManager({
    handshake: {
      versions: [14, 15],
      data: { networkMagic: 2, initiatorOnly: false, peerSharing: 1, query: false, perasSupport: false },
      responders: nodeResponders({ chain }),
    },
  });
  const server = await startAcceptLoops({ target: cm, hosts: ['127.0.0.1'], port: 0 });
  try {
    return await cycles(server.port);
  } finally {
    await server.close();
    await cm.close(100);
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

export default async function (): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  // warm-up, then the better of two runs each, interleaved
  await bare();
  await shell();
  const b = Math.min(await bare(), await bare());
  const m = Math.min(await shell(), await shell());
  out.push({
    name: 'server shell: µs per accepted connection (accept loop + connection manager + handshake answer)',
    value: (m * 1000) / CYCLES,
    unit: 'µs',
    baseline: { name: 'bare net.Server accept + 1-byte answer, µs per connection', value: (b * 1000) / CYCLES },
    ratio: m / b,
  });

  const serve = await startServe(['--network', 'preview', '--block-interval', '0']);
  try {
    const r = await flood(serve, { attempts: 2_000, magic: 2, maxMs: 120_000 });
    const code = await serve.stop();
    const stopped = serve.lines.find((l) => l.event === 'stopped');
    const errors = acceptLogErrors(serve.lines, { hard: 512, soft: 384, delay: 5_000 });
    process.stderr.write(
      `flood: ${r.attempts} attempts, answered ${r.answered}, reset ${r.refused}, max inbound ${String(stopped?.maxInbound)}, ` +
        `accept-log violations ${errors.length}${errors.length ? ` (${errors.slice(0, 3).join('; ')})` : ''}, ` +
        `blocked ${serve.lines.filter((l) => l.event === 'acceptBlocked').length}x, keep-alive ${r.rtts.length} rtts ` +
        `(failures ${r.keepAliveFailures.length}), exit ${code}\n`,
    );
    out.push({
      name: 'flood 2,000 at once (512/384/5 s): most inbound connections held',
      value: Number(stopped?.maxInbound ?? Number.NaN),
      unit: 'connections',
      target: '<= 512',
      met: Number(stopped?.maxInbound) <= 512 && errors.length === 0,
    });
    out.push({
      name: 'flood: well-behaved keep-alive RTT max',
      value: Math.max(...r.rtts),
      unit: 'ms',
      target: '< 1000 ms, no failure',
      met: Math.max(...r.rtts) < 1_000 && r.keepAliveFailures.length === 0,
    });
    out.push({ name: 'flood: well-behaved keep-alive RTT p99', value: percentile(r.rtts, 99), unit: 'ms' });
    out.push({ name: 'flood: spo serve peak RSS', value: r.peakRssKiB / 1024, unit: 'MiB' });
    out.push({ name: 'flood: until every attempt ended', value: r.ms / 1000, unit: 's' });
    out.push({
      name: 'flood: attempts answered (the rest reset at the full accept queue)',
      value: r.answered,
      unit: 'connections',
    });
  } finally {
    if (serve.child.exitCode === null) await serve.stop();
  }
  return out;
}
