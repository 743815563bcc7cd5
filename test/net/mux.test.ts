import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { NetError } from '../../src/net/errors.js';
import { Mux, type Role } from '../../src/net/mux/mux.js';
import { encodeSegment, type Segment, SegmentReader } from '../../src/net/mux/segment.js';
import { ProtocolPeer } from '../../src/net/protocol/peer.js';
import { keepAliveSpec } from '../../src/net/protocol/specs.js';
import { memoryPair } from '../../src/net/transport/memory.js';
import { TcpBearer } from '../../src/net/transport/tcp.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A connected pair of real loopback sockets. */
async function socketPair(host = '127.0.0.1'): Promise<[Socket, Socket]> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const { connect } = await import('node:net');
  const client = connect(port, host);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const s = await accepted;
  server.close();
  cleanup.push(() => {
    client.destroy();
    s.destroy();
  });
  return [client, s];
}

function collectSegments(socket: Socket): Segment[] {
  const r = new SegmentReader();
  const out: Segment[] = [];
  socket.on('data', (d: Buffer) => r.push(d, (s) => out.push({ ...s, payload: s.payload.slice() })));
  return out;
}

const until = async (f: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('segment reader', () => {
  it('reassembles any split of a segment stream (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            protocol: fc.integer({ min: 0, max: 0x7fff }),
            fromResponder: fc.boolean(),
            timestamp: fc.integer({ min: 0, max: 0xffffffff }),
            payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        (segs, cuts) => {
          const stream = Buffer.concat(segs.map((s) => encodeSegment(s)));
          const r = new SegmentReader();
          const got: Segment[] = [];
          let off = 0;
          let i = 0;
          while (off < stream.length) {
            const n = cuts[i++ % cuts.length] as number;
            r.push(stream.subarray(off, off + n), (s) => got.push({ ...s, payload: s.payload.slice() }));
            off += n;
          }
          expect(
            got.map((s) => [s.protocol, s.fromResponder, s.timestamp, Buffer.from(s.payload).toString('hex')]),
          ).toEqual(
            segs.map((s) => [s.protocol, s.fromResponder, s.timestamp, Buffer.from(s.payload).toString('hex')]),
          );
          expect(r.buffered).toBe(0);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('rejects a zero-length segment with a typed error', () => {
    const r = new SegmentReader();
    expect(() => r.push(Buffer.from('0000000000080000', 'hex'), () => undefined)).toThrow(NetError);
  });
});

describe('mux over loopback TCP', () => {
  it('cuts a 30,000-byte message into 12,288 + 12,288 + 5,424 with the initiator mode bit clear', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    mux.enable([2]);
    const segs = collectSegments(b);
    await mux.channel(2, 'initiator').send(new Uint8Array(30_000).fill(7));
    await until(() => segs.length === 3);
    expect(segs.map((s) => [s.protocol, s.fromResponder, s.length])).toEqual([
      [2, false, 12_288],
      [2, false, 12_288],
      [2, false, 5_424],
    ]);
  });

  it('interleaves protocols fairly: a small keep-alive is not stuck behind a large chain-sync message', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    const segs = collectSegments(b);
    void mux.channel(2, 'initiator').send(new Uint8Array(100_000).fill(1));
    void mux.channel(8, 'responder').send(Uint8Array.of(0x82, 0x01, 0x00));
    await until(() => segs.reduce((n, s) => n + s.length, 0) === 100_003);
    const idx = segs.findIndex((s) => s.protocol === 8);
    expect(idx).toBe(1);
    expect(segs[idx]?.fromResponder).toBe(true);
  });

  it('ends the connection on a segment for a protocol that was not negotiated', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    mux.enable([8]);
    b.on('error', () => undefined);
    b.write(
      encodeSegment({ protocol: 10, fromResponder: false, timestamp: 0, payload: Uint8Array.of(0x82, 0x00, 0x0a) }),
    );
    const err = await mux.closed;
    expect(err?.code).toBe('MUX_UNKNOWN_PROTOCOL');
  });

  it('ends the connection when a responder segment arrives with no initiator instance (initiator-only)', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    mux.enable([8]);
    b.on('error', () => undefined);
    b.write(
      encodeSegment({ protocol: 8, fromResponder: true, timestamp: 0, payload: Uint8Array.of(0x82, 0x01, 0x00) }),
    );
    expect((await mux.closed)?.code).toBe('MUX_UNKNOWN_PROTOCOL');
  });

  it('ends the connection when the ingress queue overruns its limit (keep-alive 1,408 bytes)', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    mux.enable([8]);
    mux.respondOnDemand(8, (ch) => void new ProtocolPeer(keepAliveSpec, ch, 'server').recv().catch(() => undefined));
    b.on('error', () => undefined);
    // an unfinished 5,000-byte byte string: valid so far, never complete
    const payload = new Uint8Array(2000);
    payload.set([0x82, 0x00, 0x59, 0x13, 0x88]);
    b.write(encodeSegment({ protocol: 8, fromResponder: false, timestamp: 0, payload }));
    expect((await mux.closed)?.code).toBe('MUX_INGRESS_OVERRUN');
  });

  it('reports a protocol error as an event, then the connection ends', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    mux.enable([8]);
    const errors: string[] = [];
    mux.on('protocolError', (p: number, r: Role, e: Error) => errors.push(`${p} ${r} ${(e as NetError).code}`));
    mux.respondOnDemand(8, (ch) => void new ProtocolPeer(keepAliveSpec, ch, 'server').recv().catch(() => undefined));
    b.on('error', () => undefined);
    // a keep-alive *response* sent to the server side: the client has agency, so this is a violation
    b.write(
      encodeSegment({ protocol: 8, fromResponder: false, timestamp: 0, payload: Uint8Array.of(0x82, 0x01, 0x00) }),
    );
    expect((await mux.closed)?.code).toBe('PROTOCOL_ERROR');
    expect(errors).toEqual(['8 responder PROTOCOL_ERROR']);
  });

  it('rejects zero-length segments from the wire', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    b.on('error', () => undefined);
    b.write(Buffer.from('0000000000000000', 'hex'));
    expect((await mux.closed)?.code).toBe('MUX_BAD_SEGMENT');
  });

  it('times out a segment whose bytes stop coming (SDU timeout)', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a), { sduTimeoutMs: 100 });
    b.on('error', () => undefined);
    b.write(Buffer.from('00000000000000ff8200', 'hex'));
    expect((await mux.closed)?.code).toBe('MUX_SDU_TIMEOUT');
  });

  it('does not time out a long transfer whose reads always end inside a segment', async () => {
    // In virtual time (a loaded machine stretched the real 50 ms gaps past the 150 ms limit).
    const clock = new Scheduler();
    const [a, b] = memoryPair({ clock, delayAB: 1, delayBA: 1 });
    const mux = new Mux(a, { sduTimeoutMs: 150, clock });
    mux.enable([2]);
    const ch = mux.channel(2, 'initiator');
    let got = 0;
    ch.attach((chunk) => {
      got += chunk.length;
    });
    const seg = encodeSegment({ protocol: 2, fromResponder: true, timestamp: 0, payload: new Uint8Array(1000) });
    const stream = Buffer.concat(Array.from({ length: 12 }, () => seg));
    // 12 segments over ~600 ms, every write cut in the middle of a segment
    for (let off = 0; off < stream.length; off += 1000) {
      b.write(stream.subarray(off, off + 1000));
      await clock.runAsync({ until: clock.now() + 50 });
    }
    await clock.runAsync({ until: clock.now() + 10 });
    expect(got).toBe(12_000);
    expect(mux.isClosed).toBe(false);
    // and the limit still holds: half a segment, then nothing
    b.write(seg.subarray(0, 500));
    await clock.runAsync({ until: clock.now() + 200 });
    expect(mux.error?.code).toBe('MUX_SDU_TIMEOUT');
  });

  it('runs initiator and responder instances of keep-alive at once (duplex), responders on demand, with events', async () => {
    const [a, b] = await socketPair();
    const ma = new Mux(new TcpBearer(a));
    const mb = new Mux(new TcpBearer(b));
    const events: string[] = [];
    for (const [name, m] of [
      ['a', ma],
      ['b', mb],
    ] as const) {
      m.enable([8]);
      m.on('protocolStart', (p: number, r: Role) => events.push(`${name} start ${p} ${r}`));
      m.on('protocolEnd', (p: number, r: Role) => events.push(`${name} end ${p} ${r}`));
      m.respondOnDemand(8, (ch) => {
        const peer = new ProtocolPeer(keepAliveSpec, ch, 'server');
        void (async () => {
          for (;;) {
            const msg = (await peer.recv()).msg;
            if (msg.type !== 'KeepAlive') return;
            await peer.send({ type: 'KeepAliveResponse', cookie: msg.cookie });
          }
        })().catch(() => undefined);
      });
    }
    const ca = new ProtocolPeer(keepAliveSpec, ma.channel(8, 'initiator'), 'client');
    const cb = new ProtocolPeer(keepAliveSpec, mb.channel(8, 'initiator'), 'client');
    const rounds = async (p: typeof ca, base: number): Promise<number[]> => {
      const got: number[] = [];
      for (let i = 0; i < 20; i++) {
        await p.send({ type: 'KeepAlive', cookie: base + i });
        const r = (await p.recv()).msg;
        if (r.type === 'KeepAliveResponse') got.push(r.cookie);
      }
      await p.send({ type: 'Done' });
      return got;
    };
    const [ga, gb] = await Promise.all([rounds(ca, 100), rounds(cb, 200)]);
    expect(ga).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(gb).toEqual(Array.from({ length: 20 }, (_, i) => 200 + i));
    await until(() => events.filter((e) => e.includes('end')).length === 4);
    expect(events).toContain('a start 8 responder');
    expect(events).toContain('b start 8 responder');
    expect(events).toContain('a end 8 responder');
    expect(events).toContain('b end 8 initiator');
  });

  it('closes cleanly (FIN) or abortively (RST)', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    const ended = new Promise<string>((r) => {
      b.on('end', () => r('end'));
      b.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    });
    b.resume();
    await mux.close();
    expect(await ended).toBe('end');

    const [c, d] = await socketPair();
    const mux2 = new Mux(new TcpBearer(c));
    const reset = new Promise<string>((r) => {
      d.on('end', () => r('end'));
      d.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    });
    d.resume();
    mux2.abort();
    expect(await reset).toBe('ECONNRESET');
  });

  it('honours socket back-pressure: 4 MB through a reader that pauses arrives whole and in order', async () => {
    const [a, b] = await socketPair();
    const mux = new Mux(new TcpBearer(a));
    const r = new SegmentReader();
    let total = 0;
    let ok = true;
    let expected = 0;
    b.pause();
    b.on('data', (d: Buffer) =>
      r.push(d, (s) => {
        for (const x of s.payload) {
          if (x !== (expected & 0xff)) ok = false;
          expected++;
        }
        total += s.length;
      }),
    );
    const ch = mux.channel(2, 'initiator');
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => i & 0xff);
    const sent = ch.send(big);
    await new Promise((res) => setTimeout(res, 100));
    expect(a.writableLength).toBeLessThan(big.length); // not everything was pushed into the socket at once
    b.resume();
    await sent;
    await until(() => total === big.length, 10_000);
    expect(ok).toBe(true);
  });
});
