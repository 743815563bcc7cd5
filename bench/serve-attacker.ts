/**
 * Attackers against a running `spo serve` (issue 16), one process running `count` connections of
 * one kind, on loopback only. Used by `bench/serve-attack.bench.ts` (and runnable by hand):
 *
 *   node --import tsx bench/serve-attacker.ts KIND COUNT PORT MAGIC [DURATION_MS]
 *
 * Kinds:
 *  - trickle: after the handshake, a chain-sync message that never ends: a 60 KB indefinite-length
 *    array prefix, then one more byte per one-byte segment every 5 ms (CPU amplification when the
 *    receiver re-parses the unfinished message on every segment). Reconnects when cut off.
 *  - amplify: after the handshake, 721,000 bytes of tx-submission MsgInit (`8106` repeated) and
 *    460,000 bytes of pipelined chain-sync MsgRequestNext (`8100`), just under the node's ingress
 *    limits, without ever reading an answer (memory amplification when every message is decoded
 *    and kept). Reconnects when cut off.
 *  - idle: handshakes, then holds the connection open and says nothing.
 *  - junk: connects again and again with handshake junk: random bytes, a version the server does
 *    not know, an indefinite map, a segment for protocol 0 that never ends, trailing bytes.
 * Prints one JSON line of counts on SIGTERM or at the end of the duration.
 */
import { connect, type Socket } from 'node:net';
import { CborMap, encodeTerm } from '../src/net/cbor.js';
import { encodeHandshake, versionTable } from '../src/net/codec/handshake.js';
import { encodeSegment } from '../src/net/mux/segment.js';

type Kind = 'trickle' | 'amplify' | 'idle' | 'junk';

const [kindArg, countArg, portArg, magicArg, durationArg] = process.argv.slice(2);
const kind = kindArg as Kind;
const count = Number(countArg);
const port = Number(portArg);
const magic = Number(magicArg);
const durationMs = durationArg ? Number(durationArg) : 60_000;
if (!['trickle', 'amplify', 'idle', 'junk'].includes(kind) || !(count > 0) || !(port > 0)) {
  process.stderr.write('usage: serve-attacker.ts trickle|amplify|idle|junk COUNT PORT MAGIC [DURATION_MS]\n');
  process.exit(2);
}

const stats = { connects: 0, handshakes: 0, closedByServer: 0, bytesSent: 0, errors: 0 };
const sockets = new Set<Socket>();
let stopping = false;

function seg(protocol: number, payload: Uint8Array): Buffer {
  return Buffer.from(encodeSegment({ protocol, fromResponder: false, timestamp: 0, payload }));
}

const PROPOSAL = seg(
  0,
  encodeHandshake({
    type: 'ProposeVersions',
    versions: versionTable([14, 15], { networkMagic: magic, initiatorOnly: true, peerSharing: 0, query: false }),
  }),
);

/** Connects and handshakes; resolves with the socket once the first answer arrived. */
function handshaken(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    sockets.add(s);
    stats.connects++;
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.once('close', () => {
      sockets.delete(s);
      reject(new Error('closed'));
    });
    s.once('connect', () => s.write(PROPOSAL));
    s.once('data', () => {
      stats.handshakes++;
      resolve(s);
    });
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

function send(s: Socket, b: Buffer): void {
  if (s.destroyed) return;
  stats.bytesSent += b.length;
  s.write(b);
}

/** Segments of at most 12,288 bytes carrying `bytes` on `protocol`. */
function segments(protocol: number, bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += 12_288) parts.push(seg(protocol, bytes.subarray(o, o + 12_288)));
  return Buffer.concat(parts);
}

const TRICKLE_PREFIX = segments(2, Buffer.concat([Buffer.of(0x9f), Buffer.alloc(60_000)]));
const TRICKLE_BYTE = seg(2, Buffer.of(0));
const TX_INITS = segments(4, Buffer.alloc(721_000, Buffer.of(0x81, 0x06)));
const REQUEST_NEXTS = segments(2, Buffer.alloc(460_000, Buffer.of(0x81, 0x00)));

async function trickle(): Promise<void> {
  while (!stopping) {
    let s: Socket;
    try {
      s = await handshaken();
    } catch {
      continue;
    }
    send(s, TRICKLE_PREFIX);
    await new Promise<void>((done) => {
      const t = setInterval(() => {
        if (s.destroyed || stopping) {
          clearInterval(t);
          done();
          return;
        }
        send(s, TRICKLE_BYTE);
      }, 5);
    });
    if (!stopping) stats.closedByServer++;
  }
}

async function amplify(): Promise<void> {
  while (!stopping) {
    let s: Socket;
    try {
      s = await handshaken();
    } catch {
      continue;
    }
    s.pause(); // never read an answer: the server's replies back up
    send(s, TX_INITS);
    send(s, REQUEST_NEXTS);
    await closed(s);
    if (!stopping) stats.closedByServer++;
  }
}

async function idle(): Promise<void> {
  while (!stopping) {
    let s: Socket;
    try {
      s = await handshaken();
    } catch {
      continue;
    }
    await closed(s);
    if (!stopping) stats.closedByServer++;
  }
}

const JUNK: Buffer[] = [
  // a version nobody knows, a non-integer key, trailing bytes and a second proposal in one segment
  seg(
    0,
    encodeTerm([
      0,
      new CborMap([
        [13, [magic, true, 0, false]],
        [70000, [magic, true, 0, false]],
        ['key', [magic, true, 0, false]],
      ]),
    ]),
  ),
  seg(0, Buffer.concat([PROPOSAL.subarray(8), Buffer.of(0)])),
  // an indefinite map as the version table
  seg(0, Buffer.from('8200bf0e8402f500f4ff', 'hex')),
  // a handshake message that never ends
  seg(0, Buffer.concat([Buffer.of(0x9f), Buffer.alloc(5000)])),
  // protocol 8 before any handshake, and a zero-length segment
  seg(8, Buffer.from('820019', 'hex')),
  Buffer.from('0000000000000000', 'hex'),
];

async function junk(worker: number): Promise<void> {
  let i = worker;
  while (!stopping) {
    const s = connect(port, '127.0.0.1');
    sockets.add(s);
    stats.connects++;
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
    const j = i++ % (JUNK.length + 1);
    s.once('connect', () => {
      if (j === JUNK.length) {
        const random = Buffer.alloc(64);
        for (let k = 0; k < random.length; k++) random[k] = Math.floor(Math.random() * 256);
        send(s, random);
      } else send(s, JUNK[j] as Buffer);
    });
    // the server answers or cuts us off; give up on it after a second either way
    const t = setTimeout(() => s.destroy(), 1000);
    await closed(s);
    clearTimeout(t);
  }
}

function finish(): void {
  if (stopping) return;
  stopping = true;
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify({ kind, count, ...stats })}\n`);
  setTimeout(() => process.exit(0), 50).unref();
}

process.on('SIGTERM', finish);
process.on('SIGINT', finish);
setTimeout(finish, durationMs);

for (let i = 0; i < count; i++) {
  const run = kind === 'trickle' ? trickle() : kind === 'amplify' ? amplify() : kind === 'idle' ? idle() : junk(i);
  run.catch(() => {
    stats.errors++;
  });
}
process.stderr.write(`attacker: ${count} ${kind} connections to 127.0.0.1:${port}\n`);
