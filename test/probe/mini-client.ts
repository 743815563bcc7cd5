/**
 * Test-only stand-in for src/net's connectPeer (same shape, PeerConnector): just enough node-to-node
 * client (one SDU per message) to drive the probe pipeline against test/probe/responder.ts, so the
 * scheduler and stages are tested on real sockets independently of src/net. The product uses src/net.
 */
import { connect, type Socket } from 'node:net';
import { decode, encode } from 'cborg';
import { SpoError } from '../../src/lib/errors.js';
import type { PeerConnector, ProbePeer } from '../../src/probe/attempt.js';

function frame(protocol: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(protocol, 4);
  h.writeUInt16BE(payload.length, 6);
  return Buffer.concat([h, payload]);
}

export const miniConnect: PeerConnector = (o) =>
  new Promise<ProbePeer>((resolve, reject) => {
    const t0 = performance.now();
    let connectMs = 0;
    let stage: 'connect' | 'handshake' | 'open' = 'connect';
    let buf = Buffer.alloc(0);
    const waiters = new Map<number, (msg: unknown[]) => void>();
    const socket: Socket = connect({ host: o.host, port: o.port, family: o.family ?? 0 });
    const fail = (code: string, message: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new SpoError(code, `${o.host}:${o.port}: ${message}`));
    };
    let timer = setTimeout(() => fail('CONNECT_TIMEOUT', 'connect timed out'), o.connectTimeoutMs);
    o.signal.addEventListener(
      'abort',
      () => fail(stage === 'connect' ? 'CONNECT_TIMEOUT' : 'HANDSHAKE_TIMEOUT', 'aborted'),
      {
        once: true,
      },
    );
    socket.on('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'ECONNREFUSED' ? 'CONNECT_REFUSED' : 'CONNECT_UNREACHABLE', e.message),
    );
    socket.on('close', () => {
      if (stage === 'handshake') fail('HANDSHAKE_CLOSED', 'closed during the handshake');
    });
    socket.on('connect', () => {
      connectMs = performance.now() - t0;
      stage = 'handshake';
      clearTimeout(timer);
      timer = setTimeout(() => fail('HANDSHAKE_TIMEOUT', 'no handshake answer'), o.handshakeTimeoutMs);
      const hs0 = performance.now();
      waiters.set(0, (msg) => {
        clearTimeout(timer);
        if (msg[0] === 1) {
          stage = 'open';
          const peer: ProbePeer = {
            connectMs,
            handshakeMs: performance.now() - hs0,
            version: msg[1] as number,
            keepAlive: (cookie = 0) =>
              new Promise((res) => {
                const k0 = performance.now();
                waiters.set(8, () => res(performance.now() - k0));
                socket.write(frame(8, encode([0, cookie])));
              }),
            findTip: () =>
              new Promise((res) => {
                waiters.set(2, (m) => {
                  const tip = m[1] as [[number, Uint8Array], number];
                  res({ slot: tip[0][0], blockNo: tip[1], hash: Buffer.from(tip[0][1]).toString('hex') });
                });
                socket.write(frame(2, encode([4, []])));
              }),
            close: () => {
              socket.destroy();
            },
            abort: () => {
              socket.destroy();
            },
          };
          resolve(peer);
          return;
        }
        const reason = msg[1] as unknown[];
        const text = String(reason[2] ?? '');
        fail(
          reason[0] === 0
            ? 'HANDSHAKE_REFUSED_VERSION'
            : /magic|mismatch/.test(text)
              ? 'HANDSHAKE_REFUSED_MAGIC'
              : 'HANDSHAKE_REFUSED',
          text,
        );
      });
      const data = [o.magic, true, 0, false];
      socket.write(
        frame(
          0,
          encode([
            0,
            new Map([
              [14, data],
              [15, data],
            ]),
          ]),
        ),
      );
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(6);
        if (buf.length < 8 + len) return;
        const protocol = buf.readUInt16BE(4) & 0x7fff;
        const msg = decode(buf.subarray(8, 8 + len)) as unknown[];
        buf = buf.subarray(8 + len);
        const w = waiters.get(protocol);
        waiters.delete(protocol);
        w?.(msg);
      }
    });
  });
