/**
 * Review: our responder as a Haskell relay meets it (wire.md §9), byte for byte. A raw TCP client
 * sends what a relay sends: its proposal (duplex, peer sharing, v14/v15 or v16), then keep-alive,
 * tx-submission MsgInit, block-fetch MsgRequestRange, chain-sync, MsgDone and restarts.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBlockFetch, encodeBlockFetch } from '../../src/net/codec/block-fetch.js';
import { decodeTxSubmission } from '../../src/net/codec/tx-submission.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { hex, unhex } from './helpers.js';

let server: RunningServer;
let server16: RunningServer;

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, magic: 2, blockIntervalMs: 0, initialBlocks: 5 });
  server16 = await startServer({ host: '127.0.0.1', port: 0, magic: 2, versions: [14, 15, 16], initialBlocks: 5 });
});
afterAll(async () => {
  await server.close();
  await server16.close();
});

interface Seg {
  protocol: number;
  responder: boolean;
  payload: string;
}

/** A raw peer: writes segments, reads them back one at a time (with a deadline). */
class RawPeer {
  private buf = Buffer.alloc(0);
  private readonly segs: Seg[] = [];
  private wake: (() => void) | undefined;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 8) {
        const len = this.buf.readUInt16BE(6);
        if (this.buf.length < 8 + len) break;
        const word = this.buf.readUInt16BE(4);
        this.segs.push({
          protocol: word & 0x7fff,
          responder: (word & 0x8000) !== 0,
          payload: this.buf.subarray(8, 8 + len).toString('hex'),
        });
        this.buf = this.buf.subarray(8 + len);
      }
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }
  send(protocol: number, hex: string): void {
    const p = Buffer.from(hex, 'hex');
    const h = Buffer.alloc(8);
    h.writeUInt16BE(protocol, 4); // initiator: M = 0
    h.writeUInt16BE(p.length, 6);
    this.socket.write(Buffer.concat([h, p]));
  }
  async next(timeoutMs = 2000): Promise<Seg> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = this.segs.shift();
      if (s) return s;
      if (this.closed) throw new Error('closed');
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('timeout');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }
  /** Resolves true if the peer closes within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!this.closed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
  destroy(): void {
    this.socket.destroy();
  }
}

async function handshake(port: number, propose: string): Promise<{ peer: RawPeer; reply: Seg }> {
  const peer = await RawPeer.open(port);
  peer.send(0, propose);
  const reply = await peer.next();
  return { peer, reply };
}

// A relay's proposal: preview magic 2, duplex, peer sharing 1, no query (wire.md §9, §12.1).
const RELAY_14_15 = '8200a20e8402f401f40f8402f401f4';

describe('our responder, as a Haskell relay sees it', () => {
  it('accepts the highest common version with the combined record, byte for byte', async () => {
    const { peer, reply } = await handshake(server.port, RELAY_14_15);
    expect(reply).toEqual({ protocol: 0, responder: true, payload: '83010f8402f401f4' });
    peer.destroy();
    // an initiator-only client without peer sharing: min diffusion mode, peer sharing off
    const b = await handshake(server.port, '8200a20e8402f500f40f8402f500f4');
    expect(b.reply.payload).toBe('83010f8402f500f4');
    b.peer.destroy();
  });

  it('v16 carries the fifth field; a v16 proposal with four fields is a decode refusal', async () => {
    const ok = await handshake(server16.port, '8200a30e8402f401f40f8402f401f4108502f401f4f4');
    expect(ok.reply.payload).toBe('8301108502f401f4f4');
    ok.peer.destroy();
    const bad = await handshake(server16.port, '8200a30e8402f401f40f8402f401f4108402f401f4');
    expect(bad.reply.payload.startsWith('820283011078')).toBe(true); // [2, [1, 16, text]]
    expect(Buffer.from(bad.reply.payload, 'hex').toString('latin1')).toMatch(/perasSupport/);
    bad.peer.destroy();
  });

  it('refuses as the node does: version mismatch lists our versions; bad peer sharing; other magic', async () => {
    const a = await handshake(server.port, '8200a10d8402f401f4');
    expect(a.reply.payload).toBe('82028200820e0f');
    expect(await a.peer.closesWithin(2000)).toBe(true);
    const b = await handshake(server.port, '8200a10f8402f402f4');
    expect(b.reply.payload).toBe('820283010f781e7065657253686172696e67206973206f7574206f6620626f756e643a2032');
    b.peer.destroy();
    const c = await handshake(server.port, '8200a10f8401f401f4');
    expect(c.reply.payload.startsWith('820283020f')).toBe(true);
    expect(Buffer.from(c.reply.payload, 'hex').toString('latin1')).toMatch(/version data mismatch: .* \/= /);
    c.peer.destroy();
  });

  it('answers a query with its own whole table and closes', async () => {
    const { peer, reply } = await handshake(server.port, '8200a20e8402f500f50f8402f500f5');
    expect(reply.payload).toBe('8203a20e8402f401f40f8402f401f4');
    expect(await peer.closesWithin(2000)).toBe(true);
  });

  it('survives what a hot relay sends after the handshake: tx-submission MsgInit, block-fetch, pipelined chain-sync', async () => {
    const { peer, reply } = await handshake(server.port, RELAY_14_15);
    expect(reply.payload).toBe('83010f8402f401f4');
    peer.send(4, '8106'); // tx-submission MsgInit: the relay then waits for our requests
    peer.send(8, '8200193039');
    const ka = await peer.next();
    expect(ka).toEqual({ protocol: 8, responder: true, payload: '8201193039' });
    // block-fetch MsgRequestRange [origin, origin]: a server without blocks answers MsgNoBlocks
    peer.send(3, '83008080');
    const bf = await peer.next();
    expect(bf).toEqual({ protocol: 3, responder: true, payload: '8103' });
    // chain-sync: FindIntersect [] answered with the tip; two pipelined RequestNext
    peer.send(2, '820480');
    expect((await peer.next()).payload.startsWith('8206')).toBe(true);
    peer.send(2, '81008100');
    const first = await peer.next();
    expect(first.protocol).toBe(2);
    expect(first.payload.startsWith('8303')).toBe(true); // rollback to origin first (wire.md §6.5)
    // keep-alive MsgDone, then a new keep-alive session (the node restarts responders on demand)
    peer.send(8, '8102');
    peer.send(8, '820000');
    let seg = await peer.next();
    while (seg.protocol !== 8) seg = await peer.next();
    expect(seg.payload).toBe('820100');
    peer.send(3, '8101'); // block-fetch MsgClientDone
    peer.send(2, '8107'); // chain-sync MsgDone (in StIdle after the replies)
    peer.send(8, '820001'); // and the connection still serves
    seg = await peer.next();
    while (seg.protocol !== 8) seg = await peer.next();
    expect(seg.payload).toBe('820101');
    peer.destroy();
  });

  it('never starts its own initiator protocols on a connection (quirk Q6)', async () => {
    const { peer } = await handshake(server.port, RELAY_14_15);
    peer.send(8, '8200193039');
    const seen: Seg[] = [await peer.next()];
    try {
      for (;;) seen.push(await peer.next(300));
    } catch {
      // nothing more within 300 ms
    }
    expect(seen.every((s) => s.responder)).toBe(true);
    peer.destroy();
  });
});

describe('block-fetch and tx-submission codecs (the part the responder needs)', () => {
  it('round-trips block-fetch messages and rejects what a relay would not send', () => {
    for (const h of [
      '83008080',
      '8101',
      '8102',
      '8103',
      '8105',
      '82044100',
      '830080821a05c7ad00582000000000000000000000000000000000000000000000000000000000000000ff',
    ]) {
      expect(hex(encodeBlockFetch(decodeBlockFetch(unhex(h))))).toBe(h);
    }
    expect(() => decodeBlockFetch(unhex('8106'))).toThrow(/unknown message tag 6/);
    expect(() => decodeBlockFetch(unhex('820080'))).toThrow(/MsgRequestRange/);
    expect(decodeTxSubmission(unhex('8106'))).toEqual({ type: 'Init' });
    expect(() => decodeTxSubmission(unhex('8104'))).toThrow(/only MsgInit/);
  });
});

describe('keep-alive cookie range (word16 on the wire)', () => {
  it('refuses a cookie outside 0..65535 before sending it, and the connection stays usable', async () => {
    const { connectPeer } = await import('../../src/net/client.js');
    const c = await connectPeer({
      host: '127.0.0.1',
      port: server.port,
      magic: 2,
      connectTimeoutMs: 1000,
      handshakeTimeoutMs: 1000,
    });
    await expect(c.keepAlive(65_536, 1000)).rejects.toThrow(RangeError);
    await expect(c.keepAlive(-1, 1000)).rejects.toThrow(RangeError);
    expect(await c.keepAlive(65_535, 1000)).toBeGreaterThanOrEqual(0);
    await c.close();
  });
});
