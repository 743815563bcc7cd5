/**
 * Issue 16, the mux section: attacks on a server (`startServer`, what `spo serve` runs) over
 * loopback TCP from a raw socket, each bounded: a message trickled after a 60 KB prefix (CPU
 * amplification), messages the responder never reads (memory amplification), and handshake
 * proposals the node accepts (unknown versions, trailing bytes). Each waits for an event (the
 * server's answer, its reset) rather than a time.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CborMap, encodeTerm } from '../../src/net/cbor.js';
import { encodeHandshake, versionTable } from '../../src/net/codec/handshake.js';
import type { NetError } from '../../src/net/errors.js';
import { encodeSegment, type Segment, SegmentReader } from '../../src/net/mux/segment.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { hex, unhex } from './helpers.js';

// Counts the bytes handed to the CBOR decoder by the stream decoder (and anyone else), so the
// work a trickled message costs is measured in bytes, not in time.
const work = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('../../src/net/cbor.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/net/cbor.js')>();
  return {
    ...m,
    decodeFirstTerm: (b: Uint8Array, offset = 0) => {
      work.bytes += b.length - offset;
      return m.decodeFirstTerm(b, offset);
    },
    decodeTerm: (b: Uint8Array) => {
      work.bytes += b.length;
      return m.decodeTerm(b);
    },
  };
});

const MAGIC = 2;
const CLIENT_DATA = [MAGIC, true, 0, false];

function seg(protocol: number, payload: Uint8Array): Buffer {
  return Buffer.from(encodeSegment({ protocol, fromResponder: false, timestamp: 0, payload }));
}

function segments(protocol: number, bytes: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += 12_288) parts.push(seg(protocol, bytes.subarray(o, o + 12_288)));
  return Buffer.concat(parts);
}

const PROPOSAL = encodeHandshake({
  type: 'ProposeVersions',
  versions: versionTable([14, 15], { networkMagic: MAGIC, initiatorOnly: true, peerSharing: 0, query: false }),
});
/** MsgAcceptVersion 15 with the agreed record [2, initiator-only, no peer sharing, no query]. */
const ACCEPT_15 = '83010f8402f500f4';
const KEEP_ALIVE = unhex('8200193039'); // MsgKeepAlive cookie 12345
const KEEP_ALIVE_REPLY = '8201193039';

/** A raw client: sends bytes, reads segments, tells when the server cut it off. */
class Raw {
  readonly socket: Socket;
  readonly segments: Segment[] = [];
  private readonly reader = new SegmentReader();
  private waiters: Array<() => void> = [];
  closed = false;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.ready = new Promise((r) => this.socket.once('connect', () => r()));
    this.socket.on('data', (d) => {
      this.reader.push(d, (s) => this.segments.push({ ...s, payload: Buffer.from(s.payload) }));
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(b: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /** Resolves once a segment of `protocol` arrived (its payload) or the connection ended (undefined). */
  async next(protocol: number): Promise<Uint8Array | undefined> {
    for (;;) {
      const i = this.segments.findIndex((s) => s.protocol === protocol);
      if (i >= 0) return (this.segments.splice(i, 1)[0] as Segment).payload;
      if (this.closed) return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Resolves when the server ended the connection. */
  async ended(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  async handshake(): Promise<void> {
    await this.ready;
    this.send(seg(0, PROPOSAL));
    expect(hex((await this.next(0)) ?? new Uint8Array())).toBe(ACCEPT_15);
  }

  /** A keep-alive round trip: the reply's payload, or undefined when the connection is gone. */
  async keepAlive(): Promise<string | undefined> {
    this.send(seg(8, KEEP_ALIVE));
    const p = await this.next(8);
    return p && hex(p);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

let server: RunningServer;
const disconnects: Array<NetError | undefined> = [];
const raws: Raw[] = [];

function raw(): Raw {
  const r = new Raw(server.port);
  raws.push(r);
  return r;
}

beforeAll(async () => {
  // No new blocks: a chain-sync client waits at the tip, so pipelined requests stay unread.
  server = await startServer({ host: '127.0.0.1', port: 0, magic: MAGIC, blockIntervalMs: 0, initialBlocks: 3 });
  server.events.on('disconnect', (_remote, e) => disconnects.push(e));
});
afterEach(() => {
  for (const r of raws.splice(0)) r.destroy();
});
afterAll(async () => {
  await server?.close();
});

describe('CPU amplification: an unfinished message costs its new bytes only', () => {
  it('a chain-sync message with a 60 KB indefinite-length prefix, then 3,000 one-byte segments: decoded once', async () => {
    const c = raw();
    await c.handshake();
    work.bytes = 0;
    // [ indefinite array, 60,000 zeros ... one zero per segment ... break ]: 63,002 bytes in all
    c.send(segments(2, Buffer.concat([Buffer.of(0x9f), Buffer.alloc(60_000)])));
    const one = seg(2, Buffer.of(0));
    c.send(Buffer.concat(Array.from({ length: 3000 }, () => one)));
    c.send(seg(2, Buffer.of(0xff)));
    // The message is complete and is no chain-sync message (an indefinite outer array): the server
    // ends the connection. Re-parsing it from its start on every segment was ~190 MB of decoding.
    await c.ended();
    expect(disconnects.at(-1)?.code).toBe('PROTOCOL_ERROR');
    expect(work.bytes).toBeLessThan(3 * 63_002);
  }, 60_000);

  it('the same trickle that never ends is cut at the state size limit (65,535 bytes)', async () => {
    const c = raw();
    await c.handshake();
    work.bytes = 0;
    c.send(segments(2, Buffer.concat([Buffer.of(0x9f), Buffer.alloc(60_000)])));
    const one = seg(2, Buffer.of(0));
    c.send(Buffer.concat(Array.from({ length: 6000 }, () => one)));
    await c.ended();
    expect(disconnects.at(-1)?.code).toBe('SIZE_LIMIT_EXCEEDED');
    expect(work.bytes).toBe(0); // never decoded: it never ended
  }, 60_000);
});

describe('memory amplification: nothing the responder does not read piles up', () => {
  it('721 KB of tx-submission MsgInit: the second MsgInit ends the connection (the responder never asks for more)', async () => {
    const c = raw();
    await c.handshake();
    c.send(segments(4, Buffer.alloc(721_000, Buffer.of(0x81, 0x06))));
    // Were they kept, the connection would live on and answer keep-alive.
    expect(await c.keepAlive()).toBeUndefined();
    expect(disconnects.at(-1)?.code).toBe('PROTOCOL_ERROR');
    expect(disconnects.at(-1)?.message).toMatch(/Init received in StIdle, where the peer has no agency/);
  });

  it('chain-sync: 300 pipelined MsgRequestNext wait at the tip, the 301st unread one ends the connection', async () => {
    const ok = raw();
    await ok.handshake();
    ok.send(segments(2, Buffer.alloc(2 * 301, Buffer.of(0x81, 0x00))));
    // the first is answered (roll back to origin), three headers, then MsgAwaitReply at the tip:
    // the rest wait, 297 of them, within the node's depth of 300
    expect(await ok.keepAlive()).toBe(KEEP_ALIVE_REPLY);

    const c = raw();
    await c.handshake();
    c.send(segments(2, Buffer.alloc(2 * 100_000, Buffer.of(0x81, 0x00))));
    expect(await c.keepAlive()).toBeUndefined();
    expect(disconnects.at(-1)?.code).toBe('PROTOCOL_ERROR');
    expect(disconnects.at(-1)?.message).toMatch(/more than 300 pipelined RequestNext/);
  });

  it('keep-alive: a second request before the answer to the first is a violation (no pipelining)', async () => {
    const c = raw();
    await c.handshake();
    c.send(seg(8, Buffer.concat([KEEP_ALIVE, KEEP_ALIVE, KEEP_ALIVE])));
    await c.ended();
    expect(disconnects.at(-1)?.code).toBe('PROTOCOL_ERROR');
  });
});

describe('handshake: answered as the node answers (byte-exact)', () => {
  const proposal = (entries: Array<[unknown, unknown]>): Uint8Array =>
    encodeTerm([0, new CborMap(entries as Array<[never, never]>)]);

  it('vectors: the proposal bytes are what the node would be sent', () => {
    expect(
      hex(
        proposal([
          [13, CLIENT_DATA],
          [14, CLIENT_DATA],
        ] as Array<[unknown, unknown]>),
      ),
    ).toBe('8200a20d8402f500f40e8402f500f4');
  });

  const cases: Array<[string, string, string]> = [
    // [what, proposal payload hex, answer payload hex]
    ['13 (a version spo does not know) and 14: accepts 14', '8200a20d8402f500f40e8402f500f4', '83010e8402f500f4'],
    ['14 and 70000: accepts 14', '8200a20e8402f500f41a000111708402f500f4', '83010e8402f500f4'],
    ['a text key and 15: accepts 15', '8200a2636b65798402f500f40f8402f500f4', '83010f8402f500f4'],
    [
      '15, then an unknown 13 out of order, then 14 out of order: unknown keys skip the order check, 14 after 15 does not',
      '8200a30f8402f500f40d8402f500f40e8402f500f4',
      '',
    ],
    [
      'only 13 and 70000: refused, VersionMismatch with the versions spo speaks',
      '8200a20d8402f500f41a000111708402f500f4',
      '82028200820e0f',
    ],
    ['14 and 15 then a trailing 00 in the segment: the 00 is ignored', `${hex(PROPOSAL)}00`, ACCEPT_15],
    ['two proposals in one segment: the second is ignored', `${hex(PROPOSAL)}${hex(PROPOSAL)}`, ACCEPT_15],
  ];

  for (const [what, proposalHex, answer] of cases) {
    it(what, async () => {
      const c = raw();
      await c.ready;
      c.send(seg(0, unhex(proposalHex)));
      const reply = await c.next(0);
      if (answer === '') {
        // a decode failure: the node drops the connection without an answer
        expect(reply).toBeUndefined();
        await c.ended();
        return;
      }
      expect(hex(reply ?? new Uint8Array())).toBe(answer);
      if (answer.startsWith('8301')) expect(await c.keepAlive()).toBe(KEEP_ALIVE_REPLY);
    });
  }

  it('a handshake segment after the answer ends the connection (protocol 0 is over)', async () => {
    const c = raw();
    await c.handshake();
    c.send(seg(0, PROPOSAL));
    await c.ended();
    expect(disconnects.at(-1)?.code).toBe('MUX_UNKNOWN_PROTOCOL');
  });
});
