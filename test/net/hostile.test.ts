/**
 * Review: hostile servers the client must survive. Each is a tiny net.Server speaking raw bytes;
 * `pingAddress` (what `spo ping` runs per address) and `connectPeer` must end within the timeout
 * with the right code and words, with no unhandled rejection and no hang.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectPeer } from '../../src/net/client.js';
import { type AddressResult, pingAddress } from '../../src/net/ping.js';

const MAGIC = 2;
/** MsgAcceptVersion 15, magic 2, initiator-only, no peer sharing, no query. */
const ACCEPT_15 = '83010f8402f500f4';

function segment(protocol: number, payloadHex: string, responder = true, declaredLength?: number): Buffer {
  const payload = Buffer.from(payloadHex, 'hex');
  const h = Buffer.alloc(8);
  h.writeUInt32BE(0, 0);
  h.writeUInt16BE(protocol | (responder ? 0x8000 : 0), 4);
  h.writeUInt16BE(declaredLength ?? payload.length, 6);
  return Buffer.concat([h, payload]);
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});
afterEach(() => {
  expect(unhandled).toEqual([]);
});

/** A server that runs `onConnect` per connection, with a helper resolving on the n-th segment of the peer. */
async function hostile(onConnect: (s: Socket, nextSegment: () => Promise<Buffer>) => void): Promise<number> {
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    let buf = Buffer.alloc(0);
    const waiting: Array<(b: Buffer) => void> = [];
    const ready: Buffer[] = [];
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(6);
        if (buf.length < 8 + len) break;
        const seg = buf.subarray(0, 8 + len);
        buf = buf.subarray(8 + len);
        const w = waiting.shift();
        if (w) w(seg);
        else ready.push(seg);
      }
    });
    const next = (): Promise<Buffer> => {
      const r = ready.shift();
      return r ? Promise.resolve(r) : new Promise((res) => waiting.push(res));
    };
    onConnect(s, next);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  if (!a || typeof a === 'string') throw new Error('no port');
  return a.port;
}

async function ping(
  port: number,
  mode: 'ping' | 'tip' | 'query',
  timeoutMs = 800,
  count = 2,
): Promise<{ r: AddressResult; ms: number }> {
  const t0 = performance.now();
  const r = await pingAddress(
    { address: '127.0.0.1', port, family: 4 },
    { mode, magic: MAGIC, count, intervalMs: 0, timeoutMs, defaultPort: 3001 },
  );
  return { r, ms: performance.now() - t0 };
}

/** Answers the handshake with `reply` (hex payload), then calls `after`. */
function afterHandshake(reply: string, after: (s: Socket, next: () => Promise<Buffer>) => void = () => undefined) {
  return (s: Socket, next: () => Promise<Buffer>): void => {
    void next().then(() => {
      s.write(segment(0, reply));
      after(s, next);
    });
  };
}

describe('hostile servers against spo ping', () => {
  it('accepts, then floods segments of an unknown mini-protocol: MUX_UNKNOWN_PROTOCOL', async () => {
    const port = await hostile(
      afterHandshake(ACCEPT_15, (s) => {
        const flood = Buffer.concat(Array.from({ length: 200 }, () => segment(5, '00'.repeat(100))));
        const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(flood)), 5);
      }),
    );
    const { r, ms } = await ping(port, 'ping');
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('MUX_UNKNOWN_PROTOCOL');
    expect(r.error?.message).toMatch(/mini-protocol 5/);
    expect(ms).toBeLessThan(2000);
  });

  it('declares a 65535-byte segment, sends fewer bytes and stalls in the handshake: HANDSHAKE_TIMEOUT', async () => {
    const port = await hostile((s, next) => {
      void next().then(() => s.write(segment(0, ACCEPT_15, true, 0xffff)));
    });
    const { r, ms } = await ping(port, 'ping', 700);
    expect(r.error?.code).toBe('HANDSHAKE_TIMEOUT');
    expect(ms).toBeLessThan(2500);
  });

  it('declares a 65535-byte keep-alive segment after the handshake and stalls: KEEPALIVE_TIMEOUT', async () => {
    const port = await hostile(
      afterHandshake(ACCEPT_15, (s, next) => {
        void next().then(() => s.write(segment(8, '8201', true, 0xffff)));
      }),
    );
    const { r, ms } = await ping(port, 'ping', 700);
    expect(r.error?.code).toBe('KEEPALIVE_TIMEOUT');
    expect(ms).toBeLessThan(2500);
  });

  it('accepts a version we did not propose: PROTOCOL_ERROR naming the version', async () => {
    const port = await hostile(afterHandshake('83010d8402f500f4'));
    const { r } = await ping(port, 'ping');
    expect(r.error?.code).toBe('PROTOCOL_ERROR');
    expect(r.error?.message).toMatch(/version 13, which we did not propose/);
  });

  it('accepts with another magic: HANDSHAKE_REFUSED_MAGIC naming both magics', async () => {
    const port = await hostile(afterHandshake('83010f84182af500f4'));
    const { r } = await ping(port, 'ping');
    expect(r.error?.code).toBe('HANDSHAKE_REFUSED_MAGIC');
    expect(r.error?.message).toMatch(/42.*not 2/);
  });

  it('refuses with an unknown reason tag: a typed handshake error, not a crash', async () => {
    for (const reason of ['82028207820e0f', '820283090f6178']) {
      const port = await hostile(afterHandshake(reason));
      const { r } = await ping(port, 'ping');
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('PROTOCOL_ERROR');
      expect(r.error?.message).toMatch(/malformed handshake reply/);
      expect(r.error?.hint).toMatch(/may not be a Cardano node/);
    }
    // VersionMismatch with an empty list is well-formed: the peer speaks nothing we know
    const port = await hostile(afterHandshake('8202820080'));
    const { r } = await ping(port, 'ping');
    expect(r.error?.code).toBe('HANDSHAKE_REFUSED_VERSION');
  });

  it('sends the accept in 1-byte writes: succeeds when it finishes in time, HANDSHAKE_TIMEOUT otherwise', async () => {
    const dribble = (gapMs: number) => (s: Socket, next: () => Promise<Buffer>) => {
      void next().then(async () => {
        const bytes = segment(0, ACCEPT_15);
        for (const b of bytes) {
          if (s.destroyed) return;
          s.write(Buffer.from([b]));
          await new Promise((r) => setTimeout(r, gapMs));
        }
        void next().then((ka) => s.write(segment(8, `8201${ka.subarray(8 + 2).toString('hex')}`)));
      });
    };
    const fast = await hostile(dribble(10));
    const ok = await ping(fast, 'ping', 2000, 1);
    expect(ok.r.error).toBeUndefined();
    expect(ok.r.ok).toBe(true);
    const slow = await hostile(dribble(100));
    const bad = await ping(slow, 'ping', 600, 1);
    expect(bad.r.error?.code).toBe('HANDSHAKE_TIMEOUT');
    expect(bad.ms).toBeLessThan(2000);
  });

  it('never answers keep-alive: KEEPALIVE_TIMEOUT within the timeout', async () => {
    const port = await hostile(afterHandshake(ACCEPT_15));
    const { r, ms } = await ping(port, 'ping', 500);
    expect(r.error?.code).toBe('KEEPALIVE_TIMEOUT');
    expect(ms).toBeLessThan(2000);
  });

  it('answers keep-alive with the wrong cookie: KEEPALIVE_COOKIE_MISMATCH', async () => {
    const port = await hostile(
      afterHandshake(ACCEPT_15, (s, next) => {
        void next().then(() => s.write(segment(8, '820119beef')));
      }),
    );
    const { r } = await ping(port, 'ping');
    expect(r.error?.code).toBe('KEEPALIVE_COOKIE_MISMATCH');
    expect(r.error?.message).toMatch(/cookie/);
  });

  it('half-closes after the accept: the ping fails at once, not after the timeout', async () => {
    const port = await hostile(afterHandshake(ACCEPT_15, (s) => s.end()));
    const { r, ms } = await ping(port, 'ping', 3000);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toMatch(/^CONNECTION_(CLOSED|RESET)$/);
    expect(ms).toBeLessThan(2500);
  });

  it('answers tip mode with a genesis tip: ok, slot 0, empty hash', async () => {
    const port = await hostile(
      afterHandshake(ACCEPT_15, (s, next) => {
        void next().then(() => s.write(segment(2, '8206828000')));
      }),
    );
    const { r } = await ping(port, 'tip');
    expect(r.ok).toBe(true);
    expect(r.tip).toMatchObject({ slot: 0, blockNo: 0, hash: '' });
  });

  it('answers MsgFindIntersect with a MsgRollForward: PROTOCOL_ERROR', async () => {
    const port = await hostile(
      afterHandshake(ACCEPT_15, (s, next) => {
        void next().then(() => s.write(segment(2, '830282064100828000')));
      }),
    );
    const { r } = await ping(port, 'tip');
    expect(r.error?.code).toBe('PROTOCOL_ERROR');
  });

  it('sends MsgRollForward with a garbage header: requestNext fails with PROTOCOL_ERROR', async () => {
    const port = await hostile(
      afterHandshake(ACCEPT_15, (s, next) => {
        // header [6, #6.24(h'0102')] is not a header; then [9, ...] an unknown era
        void next().then(() => s.write(segment(2, '83028206d818420102828000')));
      }),
    );
    const conn = await connectPeer({
      host: '127.0.0.1',
      port,
      magic: MAGIC,
      connectTimeoutMs: 1000,
      handshakeTimeoutMs: 1000,
    });
    await expect(conn.requestNext({ timeoutMs: 1000 })).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    conn.abort();
  });
});
