/**
 * Duplex connections: when spo dials with InitiatorAndResponder, the remote may run its own
 * initiator protocols over the same socket, and spo must answer them as responder (wire.md §4.5,
 * governor.md §8): chain-sync, keep-alive and peer sharing, while its own clients keep working.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SyntheticChain } from '../../src/net/chain.js';
import { connectPeer } from '../../src/net/client.js';
import type { Connection } from '../../src/net/connection.js';
import { staticPeers } from '../../src/net/protocols/peer-sharing/responder.js';
import { nodeResponders } from '../../src/net/protocols/responders.js';
import { startServer } from '../../src/net/serve.js';
import { hex } from './helpers.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterAll(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

function segment(protocol: number, payloadHex: string, fromResponder: boolean): Buffer {
  const payload = Buffer.from(payloadHex, 'hex');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(protocol | (fromResponder ? 0x8000 : 0), 4);
  h.writeUInt16BE(payload.length, 6);
  return Buffer.concat([h, payload]);
}

interface Seg {
  protocol: number;
  fromResponder: boolean;
  payload: string;
}

/**
 * A remote written byte by byte: it accepts the handshake as duplex with peer sharing, then runs
 * chain-sync, keep-alive and peer-sharing *clients* on the inbound connection, and records what
 * comes back.
 */
async function remoteRunningClients(): Promise<{ port: number; got: Seg[]; closed: Promise<void> }> {
  const got: Seg[] = [];
  let closedResolve: () => void = () => undefined;
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => closedResolve());
    let buf = Buffer.alloc(0);
    let handshaken = false;
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(6);
        if (buf.length < 8 + len) break;
        const word = buf.readUInt16BE(4);
        const seg = {
          protocol: word & 0x7fff,
          fromResponder: (word & 0x8000) !== 0,
          payload: hex(buf.subarray(8, 8 + len)),
        };
        buf = buf.subarray(8 + len);
        if (!handshaken && seg.protocol === 0) {
          handshaken = true;
          // MsgAcceptVersion 15, magic 2, InitiatorAndResponder, peer sharing on, no query
          s.write(segment(0, '83010f8402f401f4', true));
          // then this side's own clients, on the connection it accepted: MsgRequestNext,
          // MsgKeepAlive 12345, MsgShareRequest 5
          s.write(
            Buffer.concat([segment(2, '8100', false), segment(8, '8200193039', false), segment(10, '820005', false)]),
          );
          continue;
        }
        got.push(seg);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, got, closed };
}

const until = async (f: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('an outbound duplex connection', () => {
  it("answers the remote's chain-sync, keep-alive and peer-sharing clients as responder (M bit set)", async () => {
    const remote = await remoteRunningClients();
    const c = await connectPeer({
      host: '127.0.0.1',
      port: remote.port,
      magic: 2,
      initiatorOnly: false,
      peerSharing: true,
      connectTimeoutMs: 2000,
      handshakeTimeoutMs: 2000,
    });
    try {
      await until(() => remote.got.length >= 3);
      const byProtocol = new Map(remote.got.map((s) => [s.protocol, s]));
      // chain-sync: a fresh session starts with a roll back to origin, tip of the (empty) chain
      expect(byProtocol.get(2)).toEqual({ protocol: 2, fromResponder: true, payload: '830380828000' });
      expect(byProtocol.get(8)).toEqual({ protocol: 8, fromResponder: true, payload: '8201193039' });
      expect(byProtocol.get(10)).toEqual({ protocol: 10, fromResponder: true, payload: '820180' });
      expect(c.isClosed).toBe(false);
    } finally {
      c.abort();
    }
  });
});

describe('duplex over loopback TCP: spo dials the serve responder with InitiatorAndResponder', () => {
  it('the server side runs chain-sync, keep-alive and peer sharing as initiator over the same socket, while the client runs its own', async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0, magic: 2, initialBlocks: 5 });
    const inbound = new Promise<Connection>((r) => server.events.once('negotiated', (_remote, conn) => r(conn)));
    // the dialling side serves a chain of its own, and shares one peer
    const clientChain = new SyntheticChain(50_000, 20);
    for (let i = 0; i < 8; i++) clientChain.extend();
    const c = await connectPeer({
      host: '127.0.0.1',
      port: server.port,
      magic: 2,
      initiatorOnly: false,
      peerSharing: true,
      connectTimeoutMs: 2000,
      handshakeTimeoutMs: 2000,
      responders: nodeResponders({
        chain: clientChain,
        peers: staticPeers([{ family: 4, address: '192.0.2.7', port: 3001 }]),
      }),
    });
    try {
      const s = await inbound;
      expect(c.dataFlow).toBe('duplex');
      expect(s.dataFlow).toBe('duplex');
      expect(s.provenance).toBe('inbound');
      expect(c.provenance).toBe('outbound');
      const responderStarts: number[] = [];
      c.on('responderStart', (p) => responderStarts.push(p));

      // Both directions at once: the server's chain-sync follows the client's chain, the client's
      // follows the server's.
      const serverSide = (async () => {
        const events: string[] = [];
        for (let i = 0; i < 9; i++) {
          const e = await s.requestNext({ timeoutMs: 2000 });
          events.push(e.type === 'RollForward' ? `fwd ${e.header.blockNo} slot ${e.header.slot}` : e.type);
        }
        const rtt = await s.keepAlive(7, 2000);
        const peers = await s.sharePeers(3, { timeoutMs: 2000 });
        return { events, rtt, peers };
      })();
      const clientSide = (async () => {
        const first = await c.requestNext({ timeoutMs: 2000 });
        const second = await c.requestNext({ timeoutMs: 2000 });
        return [first.type, second.type === 'RollForward' ? second.header.blockNo : -1];
      })();
      const [srv, cli] = await Promise.all([serverSide, clientSide]);
      expect(srv.events).toEqual([
        'RollBackward',
        ...Array.from({ length: 8 }, (_, i) => `fwd ${i + 1} slot ${50_000 + 20 * i}`),
      ]);
      expect(srv.rtt).toBeGreaterThanOrEqual(0);
      expect(srv.peers).toEqual([{ family: 4, address: '192.0.2.7', port: 3001 }]);
      expect(cli).toEqual(['RollBackward', 1]);
      expect(responderStarts.sort((a, b) => a - b)).toEqual([2, 8, 10]);
      expect(c.isClosed).toBe(false);
      expect(s.isClosed).toBe(false);
    } finally {
      await c.close();
      await server.close();
    }
  });
});
