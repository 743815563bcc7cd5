import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFirstTerm } from '../../src/net/cbor.js';
import { connectPeer, type PeerConnection } from '../../src/net/client.js';
import { decodeChainSync, encodeChainSync } from '../../src/net/codec/chain-sync.js';
import { versionTable } from '../../src/net/codec/handshake.js';
import { decodeHeader } from '../../src/net/header.js';
import { Mux } from '../../src/net/mux/mux.js';
import { ProtocolPeer } from '../../src/net/protocol/peer.js';
import { handshakeSpec } from '../../src/net/protocol/specs.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { TcpBearer } from '../../src/net/transport/tcp.js';
import { hex } from './helpers.js';

let server: RunningServer;
const peers = [
  { family: 4 as const, address: '1.2.3.4', port: 3001 },
  { family: 6 as const, address: '2001:db8::1', port: 3001 },
  { family: 4 as const, address: '127.0.0.1', port: 6000 },
];

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, magic: 2, blockIntervalMs: 100, initialBlocks: 20, peers });
});
afterAll(async () => {
  await server.close();
});

const dial = (extra: Partial<Parameters<typeof connectPeer>[0]> = {}): Promise<PeerConnection> =>
  connectPeer({
    host: '127.0.0.1',
    port: server.port,
    magic: 2,
    connectTimeoutMs: 2000,
    handshakeTimeoutMs: 2000,
    ...extra,
  });

describe('startServer', () => {
  it('shares peers from its list, never more than asked, only when both sides agreed', async () => {
    const c = await dial({ peerSharing: true });
    expect(c.versionData.peerSharing).toBe(1);
    expect(await c.sharePeers(2)).toEqual(peers.slice(0, 2));
    expect(await c.sharePeers(255)).toEqual(peers);
    await c.close();
    const d = await dial();
    expect(d.versionData.peerSharing).toBe(0);
    await expect(d.sharePeers(3)).rejects.toThrow(/not agreed/);
    await d.close();
  });

  it('serves chain-sync: rollback to origin, then linked headers, then waits for new ones (must-reply)', async () => {
    // a chain that grows only when told, after the client waits at the tip (no race with a timer)
    const still = await startServer({ host: '127.0.0.1', port: 0, magic: 2, blockIntervalMs: 0, initialBlocks: 20 });
    const c = await connectPeer({
      host: '127.0.0.1',
      port: still.port,
      magic: 2,
      connectTimeoutMs: 2000,
      handshakeTimeoutMs: 2000,
    });
    try {
      const first = await c.requestNext();
      expect(first).toMatchObject({ type: 'RollBackward', point: null });
      let prev: string | null = null;
      for (let i = 1; i <= 5; i++) {
        const e = await c.requestNext();
        if (e.type !== 'RollForward') throw new Error('expected a header');
        expect(e.header.blockNo).toBe(i);
        expect(e.header.prevHash === null ? null : hex(e.header.prevHash)).toBe(prev);
        prev = hex(e.header.hash);
      }
      // intersect at the tip: the next message must wait for a new block
      const tip = await c.findTip();
      const found = await c.findIntersect([{ slot: tip.slot, hash: Buffer.from(tip.hash, 'hex') }]);
      expect(found.found).toBe(true);
      expect((await c.requestNext()).type).toBe('RollBackward');
      const pending = c.requestNext({ timeoutMs: 3000 });
      const end = Date.now() + 3000;
      while (c.chainSyncClient.state !== 'StMustReply' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      still.chain.extend();
      const next = await pending;
      expect(next.type === 'RollForward' && next.awaited).toBe(true);
      expect(next.type === 'RollForward' && next.header.blockNo).toBeGreaterThan(tip.blockNo);
      await c.close();
    } finally {
      await still.close();
    }
  });

  it('answers pipelined MsgRequestNext (as a Haskell client sends them)', async () => {
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const mux = new Mux(new TcpBearer(socket));
    const hs = new ProtocolPeer(handshakeSpec, mux.channel(0, 'initiator'), 'client');
    await hs.send({
      type: 'ProposeVersions',
      versions: versionTable([14, 15], { networkMagic: 2, initiatorOnly: true, peerSharing: 0, query: false }),
    });
    expect((await hs.recv()).msg.type).toBe('AcceptVersion');
    mux.enable([2]);
    const ch = mux.channel(2, 'initiator');
    // five requests in one write, bypassing our own client's agency check
    const five = Buffer.concat(Array.from({ length: 5 }, () => encodeChainSync({ type: 'RequestNext' })));
    await ch.send(five);
    // Read the answers as raw messages (our own client never pipelines, so it would refuse them).
    const replies: string[] = [];
    await new Promise<void>((resolve) => {
      let buf = Buffer.alloc(0);
      ch.attach((chunk) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          let item: { length: number };
          try {
            item = decodeFirstTerm(buf);
          } catch {
            return;
          }
          const m = decodeChainSync(buf.subarray(0, item.length));
          buf = buf.subarray(item.length);
          replies.push(m.type === 'RollForward' ? `fwd ${decodeHeader(m.header).blockNo}` : m.type);
          if (replies.length === 5) resolve();
        }
      });
    });
    expect(replies).toEqual(['RollBackward', 'fwd 1', 'fwd 2', 'fwd 3', 'fwd 4']);
    mux.abort();
  });

  it('a duplex client answers the keep-alive the peer runs on it (M bit set on our answers)', async () => {
    const { createServer } = await import('node:net');
    const { acceptProposal, encodeVersionData } = await import('../../src/net/codec/handshake.js');
    const { keepAliveSpec } = await import('../../src/net/protocol/specs.js');
    const cookies: number[] = [];
    const srv = createServer(async (sock) => {
      const mux = new Mux(new TcpBearer(sock));
      const hs = new ProtocolPeer(handshakeSpec, mux.channel(0, 'responder'), 'server');
      const p = (await hs.recv()).msg;
      if (p.type !== 'ProposeVersions') return;
      const d = acceptProposal(p.versions, {
        versions: [14, 15],
        data: { networkMagic: 2, initiatorOnly: false, peerSharing: 0, query: false },
      });
      if (d.kind !== 'accept') return;
      mux.enable([8]);
      await hs.send({ type: 'AcceptVersion', version: d.version, data: encodeVersionData(d.version, d.data) });
      // this side now runs a keep-alive *client* on the inbound connection (duplex)
      const ka = new ProtocolPeer(keepAliveSpec, mux.channel(8, 'initiator'), 'client');
      for (let i = 0; i < 3; i++) {
        await ka.send({ type: 'KeepAlive', cookie: 40 + i });
        const m = (await ka.recv()).msg;
        if (m.type === 'KeepAliveResponse') cookies.push(m.cookie);
      }
      await ka.send({ type: 'Done' });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const c = await connectPeer({
      host: '127.0.0.1',
      port,
      magic: 2,
      initiatorOnly: false,
      connectTimeoutMs: 2000,
      handshakeTimeoutMs: 2000,
    });
    expect(c.versionData.initiatorOnly).toBe(false);
    const end = Date.now() + 3000;
    while (cookies.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(cookies).toEqual([40, 41, 42]);
    c.abort();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('keeps many connections at once and counts them', async () => {
    const cs = await Promise.all(Array.from({ length: 20 }, () => dial()));
    expect(server.connections()).toBeGreaterThanOrEqual(20);
    const rtts = await Promise.all(cs.map((c) => c.keepAlive()));
    expect(rtts.every((r) => r >= 0)).toBe(true);
    await Promise.all(cs.map((c) => c.close()));
  });

  it('with an idle timeout, closes a connection on which nothing runs (after the handshake, after the last protocol)', async () => {
    const idle = await startServer({ host: '127.0.0.1', port: 0, magic: 2, idleTimeoutMs: 150 });
    try {
      const c = await connectPeer({
        host: '127.0.0.1',
        port: idle.port,
        magic: 2,
        connectTimeoutMs: 2000,
        handshakeTimeoutMs: 2000,
      });
      expect((await c.mux.closed)?.code).toBe('CONNECTION_CLOSED');
      const d = await connectPeer({
        host: '127.0.0.1',
        port: idle.port,
        magic: 2,
        connectTimeoutMs: 2000,
        handshakeTimeoutMs: 2000,
      });
      for (let i = 0; i < 4; i++) {
        await d.keepAlive(i);
        await new Promise((r) => setTimeout(r, 100)); // a running keep-alive keeps the connection
      }
      expect(d.mux.isClosed).toBe(false);
      await d.close();
    } finally {
      await idle.close();
    }
  });

  it('a keep-alive timeout ends the attempt with KEEPALIVE_TIMEOUT', async () => {
    const slow = await startServer({ host: '127.0.0.1', port: 0, magic: 2, fault: { kind: 'slow', ms: 400 } });
    try {
      const c = await connectPeer({
        host: '127.0.0.1',
        port: slow.port,
        magic: 2,
        connectTimeoutMs: 2000,
        handshakeTimeoutMs: 2000,
      });
      const t0 = performance.now();
      await expect(c.keepAlive(1, 100)).rejects.toMatchObject({ code: 'KEEPALIVE_TIMEOUT' });
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      await slow.close();
    }
  });
});
