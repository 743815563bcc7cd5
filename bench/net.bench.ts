/**
 * Issue 4 and 11 benchmarks, each a ratio against a baseline measured in the same run:
 *  1. keep-alive RTT as `spo ping` measures it against `spo serve` (two processes on loopback)
 *     versus a raw TCP echo round trip (two processes, 5-byte message). Target: median within +0.1 ms.
 *     2,000 round trips per run, back to back; the first 500 of each side are dropped (JIT warm-up
 *     of the fresh `spo ping` process), three runs, median of the medians.
 *  2. mux + chain-sync decoding of a recorded header stream (real mainnet Conway and Babbage
 *     headers wrapped as MsgRollForward, cut into 12,288-byte segments, fed in 64 KiB reads):
 *     headers/s (target >= 50,000) and time versus cborg alone decoding the same messages (<= 3x).
 *     The header hash is computed lazily (on first read); its cost is reported separately.
 *  3. the cost of the connection object (issue 11): keep-alive round trips in one process over
 *     loopback TCP against `startServer`, through `Connection.keepAlive` (client module, per-protocol
 *     queue, error wrapping) versus a bare `ProtocolPeer` on the same kind of negotiated mux. 5,000
 *     round trips per side per round, five alternating rounds, median of the per-round medians.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decode as cborgDecode } from 'cborg';
import { decodeFirstTerm } from '../src/net/cbor.js';
import { connectPeer } from '../src/net/client.js';
import { encodeChainSync } from '../src/net/codec/chain-sync.js';
import { decodeHeader, wrapHeader } from '../src/net/header.js';
import { Mux } from '../src/net/mux/mux.js';
import { encodeSegment, SDU_SIZE } from '../src/net/mux/segment.js';
import { ProtocolPeer } from '../src/net/protocol/peer.js';
import { chainSyncSpec, keepAliveSpec } from '../src/net/protocol/specs.js';
import { startServer } from '../src/net/serve.js';
import type { Bearer, BearerSink } from '../src/net/transport/bearer.js';
import type { BenchResult } from './run.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = `${ROOT}bin/run.js`;
const FIX = `${ROOT}test/fixtures/net/vectors/`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const ECHO_SERVER = `
const net = require('node:net');
const s = net.createServer({ noDelay: true }, (c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); c.on('error', () => {}); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
    child.once('exit', (c) => reject(new Error(`child exited ${c}: ${out}`)));
  });
}

async function echoRtts(port: number, n: number): Promise<number[]> {
  const s = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((r) => s.once('connect', () => r()));
  const msg = Buffer.from('8200193039', 'hex');
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const got = new Promise<number>((r) => {
      let have = 0;
      const on = (d: Buffer): void => {
        have += d.length;
        if (have >= msg.length) {
          s.removeListener('data', on);
          r(performance.now());
        }
      };
      s.on('data', on);
    });
    s.write(msg);
    out.push((await got) - t0);
  }
  s.destroy();
  return out;
}

async function rttBench(): Promise<BenchResult[]> {
  const COUNT = 2000;
  const echo = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const serve = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--network', 'preview', '--block-interval', '0'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  try {
    const echoPort = Number(await firstLine(echo));
    const addr = (await firstLine(serve)).split(' ')[1] as string;
    const echoMedians: number[] = [];
    const pingMedians: number[] = [];
    for (let round = 0; round < 3; round++) {
      echoMedians.push(median((await echoRtts(echoPort, COUNT)).slice(500))); // after warm-up (JIT)
      const p = spawnSync(
        process.execPath,
        [BIN, 'ping', addr, '--network', 'preview', '--count', String(COUNT), '--interval', '0', '--json'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const doc = JSON.parse(p.stdout) as { targets: Array<{ addresses: Array<{ rtt: { samplesMs: number[] } }> }> };
      const samples = doc.targets[0]?.addresses[0]?.rtt.samplesMs ?? [];
      pingMedians.push(median(samples.slice(500)));
    }
    const e = median(echoMedians);
    const pm = median(pingMedians);
    return [
      {
        name: 'keep-alive RTT median, spo ping vs spo serve (loopback)',
        value: pm,
        unit: 'ms',
        baseline: { name: 'raw TCP echo round trip median', value: e },
        ratio: pm / e,
        target: `median within +0.1 ms of the echo (measured +${(pm - e).toFixed(3)} ms)`,
        met: pm - e <= 0.1,
      },
    ];
  } finally {
    echo.kill();
    serve.kill('SIGTERM');
  }
}

/** A recorded header stream: real headers, wrapped and framed as a node sends them. */
function headerStream(n: number): { messages: Uint8Array[]; reads: Uint8Array[] } {
  const headers: Uint8Array[] = [];
  for (const f of ['gouroboros/mainnet_header_block_10882991.hex', 'gouroboros/mainnet_header_block_10873394.hex']) {
    headers.push(new Uint8Array(Buffer.from(readFileSync(FIX + f, 'utf8').trim(), 'hex')));
  }
  const chunk = new Uint8Array(Buffer.from(readFileSync(`${FIX}pallas/02019.chunk.hex`, 'utf8').trim(), 'hex'));
  for (let off = 0; off < chunk.length; ) {
    const { length } = decodeFirstTerm(chunk, off);
    const block = chunk.subarray(off, off + length);
    const hl = decodeFirstTerm(block, 3).length;
    headers.push(block.slice(3, 3 + hl));
    off += length;
  }
  const messages: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const h = headers[i % headers.length] as Uint8Array;
    const era = i % headers.length < 2 ? 6 : 5;
    messages.push(
      encodeChainSync({
        type: 'RollForward',
        header: wrapHeader(era, h),
        tip: { point: { slot: 135747596 + i, hash: new Uint8Array(32).fill(i & 0xff) }, blockNo: 10882991 + i },
      }),
    );
  }
  const stream = Buffer.concat(messages);
  const segs: Uint8Array[] = [];
  for (let off = 0; off < stream.length; off += SDU_SIZE) {
    segs.push(
      encodeSegment({
        protocol: 2,
        fromResponder: true,
        timestamp: off,
        payload: stream.subarray(off, off + SDU_SIZE),
      }),
    );
  }
  const wire = Buffer.concat(segs);
  const reads: Uint8Array[] = [];
  for (let off = 0; off < wire.length; off += 65_536) reads.push(wire.subarray(off, off + 65_536));
  return { messages, reads };
}

/** A bearer fed by hand: the reads go straight to the mux, as a socket's 'data' events would. */
function feedBearer(): Bearer & { feed(chunk: Uint8Array): void } {
  let sink: BearerSink | undefined;
  let destroyed = false;
  return {
    kind: 'memory',
    local: undefined,
    remote: undefined,
    attach: (s) => {
      sink = s;
    },
    feed: (chunk) => sink?.data(chunk),
    write: () => true,
    writableLength: 0,
    end: () => undefined,
    reset: () => {
      destroyed = true;
    },
    destroy: () => {
      destroyed = true;
    },
    get destroyed() {
      return destroyed;
    },
    unref: () => undefined,
  };
}

async function decodeOurs(reads: Uint8Array[], n: number, withHash = false): Promise<number> {
  const sock = feedBearer();
  const mux = new Mux(sock, { sduTimeoutMs: 1e9 });
  mux.enable([2]);
  const peer = new ProtocolPeer(chainSyncSpec, mux.channel(2, 'initiator'), 'client', {
    timeouts: { StCanAwait: undefined, StMustReply: undefined },
  });
  let got = 0;
  let lastBlock = 0;
  const t0 = performance.now();
  for (const r of reads) {
    sock.feed(r);
    // drain what this read completed (as the client would, one RequestNext per header)
    while (got < n) {
      peer.state = 'StCanAwait';
      const q = (peer as unknown as { queue: unknown[] }).queue;
      if (q.length === 0) break;
      const m = (await peer.recv()).msg;
      if (m.type !== 'RollForward') throw new Error('unexpected message');
      const h = decodeHeader(m.header);
      lastBlock = h.blockNo;
      if (withHash && h.hash.length !== 32) throw new Error('bad hash');
      got++;
    }
  }
  const ms = performance.now() - t0;
  if (got !== n || lastBlock === 0) throw new Error(`decoded ${got} of ${n}`);
  mux.abort();
  return ms;
}

function decodeCborg(messages: Uint8Array[]): number {
  const tags: Array<(x: unknown) => unknown> = [];
  tags[24] = (x) => x;
  let sink = 0;
  const t0 = performance.now();
  for (const m of messages) sink += (cborgDecode(m, { tags }) as unknown[]).length;
  const ms = performance.now() - t0;
  if (sink === 0) throw new Error('nothing decoded');
  return ms;
}

async function decodeBench(): Promise<BenchResult[]> {
  const N = 50_000;
  const { messages, reads } = headerStream(N);
  // warm both paths, then alternate rounds and take medians
  await decodeOurs(headerStream(5000).reads, 5000);
  decodeCborg(messages.slice(0, 5000));
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 5; i++) {
    ours.push(await decodeOurs(reads, N));
    base.push(decodeCborg(messages));
  }
  const hashed: number[] = [];
  for (let i = 0; i < 3; i++) hashed.push(await decodeOurs(reads, N, true));
  const o = median(ours);
  const b = median(base);
  const hs = median(hashed);
  const perSec = (N / o) * 1000;
  return [
    {
      name: 'mux + chain-sync + header decode (slot, block number, prev-hash) of a recorded stream',
      value: perSec,
      unit: 'headers/s',
      target: '>= 50,000 headers/s',
      met: perSec >= 50_000,
    },
    {
      name: 'mux + chain-sync + header decode time',
      value: o,
      unit: `ms per ${N} headers`,
      baseline: { name: 'cborg.decode alone on the same messages', value: b },
      ratio: o / b,
      target: '<= 3x cborg alone',
      met: o / b <= 3,
    },
    {
      name: 'same, plus the blake2b-256 header hash (@noble/hashes) of every header',
      value: (N / hs) * 1000,
      unit: 'headers/s',
      baseline: { name: 'without the hash (headers/s)', value: perSec },
      ratio: hs / o,
    },
  ];
}

async function connectionBench(): Promise<BenchResult[]> {
  const N = 5000;
  const server = await startServer({ host: '127.0.0.1', port: 0, magic: 2, blockIntervalMs: 0 });
  const dial = () =>
    connectPeer({ host: '127.0.0.1', port: server.port, magic: 2, connectTimeoutMs: 2000, handshakeTimeoutMs: 2000 });
  const viaConnection = await dial();
  const bare = await dial();
  const peer = new ProtocolPeer(keepAliveSpec, bare.mux.channel(8, 'initiator'), 'client');
  const timeConnection = async (): Promise<number> => {
    const rtts: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await viaConnection.keepAlive(i & 0xffff);
      rtts.push(performance.now() - t0);
    }
    return median(rtts);
  };
  const timeBare = async (): Promise<number> => {
    const rtts: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await peer.send({ type: 'KeepAlive', cookie: i & 0xffff });
      const r = await peer.recv();
      if (r.msg.type !== 'KeepAliveResponse') throw new Error('unexpected answer');
      rtts.push(performance.now() - t0);
    }
    return median(rtts);
  };
  try {
    await timeConnection(); // warm-up
    await timeBare();
    const conn: number[] = [];
    const base: number[] = [];
    for (let round = 0; round < 5; round++) {
      conn.push(await timeConnection());
      base.push(await timeBare());
    }
    const c = median(conn);
    const b = median(base);
    return [
      {
        name: 'keep-alive round trip through the connection object (in-process, loopback TCP)',
        value: c,
        unit: 'ms',
        baseline: { name: 'bare ProtocolPeer on the negotiated mux', value: b },
        ratio: c / b,
        target: 'within +0.05 ms of the bare driver',
        met: c - b <= 0.05,
      },
    ];
  } finally {
    viaConnection.abort();
    bare.abort();
    await server.close();
  }
}

export default async function (): Promise<BenchResult[]> {
  if (process.env.NET_BENCH === 'decode') return decodeBench();
  if (process.env.NET_BENCH === 'connection') return connectionBench();
  return [...(await decodeBench()), ...(await connectionBench()), ...(await rttBench())];
}
