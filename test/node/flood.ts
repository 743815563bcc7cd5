/**
 * The flood against a real `spo serve` child (bin/run.js, --json): many connection attempts at once
 * (each completes the handshake and then stays silent, or trickles its proposal one byte a second),
 * while a well-behaved client connected before the flood runs keep-alive round trips. Collects the
 * server's JSON lines (accepts with the inbound count, rate-limit pauses, handshakes), the
 * keep-alive RTTs and the child's RSS. Used by test/node/serve-flood.e2e.test.ts (small limits) and
 * bench/serve-flood.bench.ts (2,000 attempts with the node's limits).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connectPeer, type PeerConnection } from '../../src/net/client.js';
import { encodeHandshake, versionTable } from '../../src/net/codec/handshake.js';
import { encodeSegmentHeader } from '../../src/net/mux/segment.js';
import { BIN } from '../lib/cli.js';

export interface ServeLine {
  event: string;
  at: string;
  [key: string]: unknown;
}

export interface ServeChild {
  child: ChildProcess;
  port: number;
  lines: ServeLine[];
  /** Resolves with the first line matching `pred` (already seen or coming). */
  line(pred: (l: ServeLine) => boolean): Promise<ServeLine>;
  rssKiB(): number | undefined;
  /** SIGTERM; resolves with the exit code once it exited. */
  stop(): Promise<number | null>;
}

/**
 * Starts `spo serve --json --port 0 ...args` and waits for its listening line; with `maxFiles` the
 * process runs under `ulimit -n` (a shell that then execs node, so the pid is the server's).
 */
export function startServe(args: readonly string[], o: { maxFiles?: number } = {}): Promise<ServeChild> {
  const argv = [BIN, 'serve', '--json', '--port', '0', '--host', '127.0.0.1', ...args];
  const env = { ...process.env, NO_COLOR: '1' };
  const child =
    o.maxFiles === undefined
      ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn('sh', ['-c', `ulimit -n ${o.maxFiles} && exec "$0" "$@"`, process.execPath, ...argv], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env,
        });
  const lines: ServeLine[] = [];
  const waiters: Array<{ pred: (l: ServeLine) => boolean; resolve: (l: ServeLine) => void }> = [];
  let buf = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!text.startsWith('{')) continue;
      const l = JSON.parse(text) as ServeLine;
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = (pred: (l: ServeLine) => boolean): Promise<ServeLine> => {
    const have = lines.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      waiters.push({ pred, resolve });
      void exited.then(() => reject(new Error(`spo serve exited before the line came; stderr: ${stderr}`)));
    });
  };
  return line((l) => l.event === 'listening').then((hello) => ({
    child,
    port: hello.port as number,
    lines,
    line,
    rssKiB: () => {
      try {
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) : undefined;
      } catch {
        return undefined;
      }
    },
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  }));
}

/** The proposer's first segment: MsgProposeVersions for 14 and 15 on `magic`, initiator-only. */
export function proposalSegment(magic: number): Buffer {
  const payload = encodeHandshake({
    type: 'ProposeVersions',
    versions: versionTable([14, 15], { networkMagic: magic, initiatorOnly: true, peerSharing: 0, query: false }),
  });
  const header = encodeSegmentHeader({ timestamp: 0, protocol: 0, fromResponder: false, length: payload.length });
  return Buffer.concat([header, payload]);
}

export interface FloodResult {
  attempts: number;
  /** Attempts whose handshake was answered. */
  answered: number;
  /** Attempts reset or closed before an answer. */
  refused: number;
  /** Keep-alive round trips of the well-behaved client during the flood (ms). */
  rtts: number[];
  keepAliveFailures: string[];
  peakRssKiB: number;
  ms: number;
}

export interface FloodOptions {
  attempts: number;
  magic: number;
  /** Send the proposal one byte a second instead of at once. */
  trickle?: boolean;
  /** End the flood (destroy what is left) after this long. */
  maxMs: number;
  /** The well-behaved client's interval between keep-alives. */
  keepAliveEveryMs?: number;
}

/**
 * Connects a well-behaved client, then fires `attempts` connections at once. Each flooder proposes
 * (at once, or a byte a second) and, once answered, stays silent until the server closes it.
 * Resolves when every flooder's socket is closed (or `maxMs` passed: the rest are destroyed).
 */
export async function flood(serve: ServeChild, o: FloodOptions): Promise<FloodResult> {
  const good: PeerConnection = await connectPeer({
    host: '127.0.0.1',
    port: serve.port,
    magic: o.magic,
    connectTimeoutMs: 5_000,
    handshakeTimeoutMs: 5_000,
  });
  const rtts: number[] = [];
  const keepAliveFailures: string[] = [];
  let flooding = true;
  const started = performance.now();
  let peakRssKiB = serve.rssKiB() ?? 0;
  const keepAlive = (async () => {
    let cookie = 0;
    while (flooding) {
      const t0 = performance.now();
      try {
        await good.keepAlive(cookie++ & 0xffff, 1_000);
        rtts.push(performance.now() - t0);
      } catch (e) {
        keepAliveFailures.push(`${((performance.now() - started) / 1000).toFixed(1)}s: ${(e as Error).message}`);
        if (good.mux.isClosed) break;
      }
      peakRssKiB = Math.max(peakRssKiB, serve.rssKiB() ?? 0);
      await new Promise((r) => setTimeout(r, o.keepAliveEveryMs ?? 100));
    }
  })();

  const segment = proposalSegment(o.magic);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let answered = 0;
  let refused = 0;
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: serve.port });
      sockets.add(s);
      let gotAnswer = false;
      let sent = 0;
      s.on('error', () => undefined);
      s.on('connect', () => {
        if (!o.trickle) {
          s.write(segment);
          return;
        }
        const t = setInterval(() => {
          if (s.destroyed || sent >= segment.length) {
            clearInterval(t);
            timers.delete(t);
            return;
          }
          s.write(segment.subarray(sent, sent + 1));
          sent++;
        }, 1_000);
        timers.add(t);
      });
      s.on('data', () => {
        if (!gotAnswer) {
          gotAnswer = true;
          answered++;
        }
      });
      s.on('close', () => {
        if (!gotAnswer) refused++;
        sockets.delete(s);
        resolve();
      });
    });
  const all = Promise.all(Array.from({ length: o.attempts }, () => one()));
  const cap = setTimeout(() => {
    for (const s of sockets) s.destroy();
  }, o.maxMs);
  await all;
  clearTimeout(cap);
  for (const t of timers) clearInterval(t);
  flooding = false;
  await keepAlive;
  peakRssKiB = Math.max(peakRssKiB, serve.rssKiB() ?? 0);
  good.abort();
  return {
    attempts: o.attempts,
    answered,
    refused,
    rtts,
    keepAliveFailures,
    peakRssKiB,
    ms: performance.now() - started,
  };
}

/** The checks of the server's accept log: never above hard, the ramp between soft and hard, the pause at hard. */
export function acceptLogErrors(
  lines: readonly ServeLine[],
  limit: { hard: number; soft: number; delay: number },
): string[] {
  const errors: string[] = [];
  const accepts = lines.filter((l) => l.event === 'accept');
  for (const a of accepts) {
    if ((a.inbound as number) > limit.hard) errors.push(`inbound ${String(a.inbound)} above ${limit.hard} at ${a.at}`);
  }
  for (let i = 1; i < accepts.length; i++) {
    const prev = accepts[i - 1] as ServeLine;
    const cur = accepts[i] as ServeLine;
    const n = prev.inbound as number;
    const gap = Date.parse(cur.at) - Date.parse(prev.at);
    const need =
      n < limit.soft
        ? 0
        : n >= limit.hard
          ? limit.delay
          : ((n - limit.soft) * limit.delay) / Math.max(1, limit.hard - limit.soft);
    // timestamps are whole milliseconds: allow one for the rounding of each
    if (gap < need - 2)
      errors.push(`accept at ${cur.at} only ${gap} ms after one at inbound ${n} (needs ${need.toFixed(1)} ms)`);
  }
  return errors;
}
