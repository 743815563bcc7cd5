/**
 * The client API (INTERFACES.md): connect, handshake, then keep-alive round trips, the peer's tip,
 * peer sharing and header following on one connection. Failures are NetErrors whose code names the
 * stage (CONNECT_*, HANDSHAKE_*, KEEPALIVE_*, CHAINSYNC_*, PROTOCOL_ERROR).
 */
import { randomInt } from 'node:crypto';
import { formatEndpoint } from '../lib/address.js';
import { InterruptedError } from '../lib/errors.js';
import type { ChainSyncMessage } from './codec/chain-sync.js';
import {
  DEFAULT_VERSIONS,
  decodeVersionData,
  describeRefusal,
  type HandshakeMessage,
  type VersionData,
  type VersionEntry,
  versionTable,
} from './codec/handshake.js';
import type { KeepAliveMessage } from './codec/keep-alive.js';
import type { PeerAddress, PeerSharingMessage } from './codec/peer-sharing.js';
import type { Point, Tip } from './codec/point.js';
import { NetError } from './errors.js';
import { decodeHeader, type HeaderInfo } from './header.js';
import { Protocol } from './mux/limits.js';
import { Mux } from './mux/mux.js';
import { ProtocolPeer } from './protocol/peer.js';
import {
  type ChainSyncState,
  chainSyncSpec,
  type HandshakeState,
  handshakeSpec,
  type KeepAliveState,
  keepAliveSpec,
  mustReplyTimeoutMs,
  type PeerSharingState,
  peerSharingSpec,
} from './protocol/specs.js';
import { tcpConnect } from './transport/tcp.js';

export interface ConnectPeerOptions {
  host: string;
  port: number;
  family?: 4 | 6;
  magic: number;
  /** Versions to propose (default 14 and 15; add 16 for the experimental one). */
  versions?: readonly number[];
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Propose initiator-only (default) or duplex. */
  initiatorOnly?: boolean;
  /** Ask for peer sharing (default false). */
  peerSharing?: boolean;
  /** Handshake query: the result carries the peer's version table and the connection is closed. */
  query?: boolean;
}

export interface PeerTip {
  slot: number;
  blockNo: number;
  /** lower-case hex; empty string for the genesis tip */
  hash: string;
}

export interface PeerConnection {
  readonly host: string;
  readonly port: number;
  readonly connectMs: number;
  readonly handshakeMs: number;
  readonly version: number;
  readonly versionData: VersionData;
  readonly mux: Mux;
  keepAlive(cookie?: number, timeoutMs?: number): Promise<number>;
  findTip(options?: { timeoutMs?: number }): Promise<PeerTip & { rttMs: number }>;
  sharePeers(amount: number, options?: { timeoutMs?: number }): Promise<PeerAddress[]>;
  /** Chain-sync: intersect at `points`, then the next header event (roll forward/backward). */
  findIntersect(points: Point[], options?: { timeoutMs?: number }): Promise<{ found: boolean; point: Point; tip: Tip }>;
  requestNext(options?: { timeoutMs?: number }): Promise<ChainSyncEvent>;
  close(): Promise<void>;
  abort(): void;
}

export type ChainSyncEvent =
  | { type: 'RollForward'; header: HeaderInfo; tip: Tip; at: number; awaited: boolean }
  | { type: 'RollBackward'; point: Point; tip: Tip; at: number; awaited: boolean };

export interface QueryResult {
  host: string;
  port: number;
  connectMs: number;
  handshakeMs: number;
  versions: Array<{ version: number; data: VersionData | undefined; raw?: unknown }>;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function tipOf(t: Tip): PeerTip {
  return { slot: t.point?.slot ?? 0, blockNo: t.blockNo, hash: t.point ? hex(t.point.hash) : '' };
}

/** Maps a handshake reply that is not an accept to the error code the stage contract names. */
function handshakeFailure(where: string, reply: HandshakeMessage, magic: number): NetError {
  if (reply.type === 'Refuse') {
    const r = reply.reason;
    const words = describeRefusal(r);
    if (r.kind === 'VersionMismatch') {
      return new NetError('HANDSHAKE_REFUSED_VERSION', `${where}: handshake refused: ${words}`, {
        hint: 'the peer runs a node that speaks none of the proposed versions; try --versions with the ones it lists',
        details: { reason: r.kind, peerVersions: r.versions },
      });
    }
    if (r.kind === 'Refused' && /mismatch/i.test(r.message)) {
      const m = /NetworkMagic \{unNetworkMagic = (\d+)\}.*\/= .*NetworkMagic \{unNetworkMagic = (\d+)\}/.exec(
        r.message,
      );
      return new NetError(
        'HANDSHAKE_REFUSED_MAGIC',
        `${where}: handshake refused: wrong network magic (we sent ${magic}${m ? `, the peer is on ${m[1]}` : ''})`,
        {
          hint: 'pick the network the relay is on with --network or --magic',
          details: { reason: r.kind, version: r.version, text: r.message, ...(m ? { peerMagic: Number(m[1]) } : {}) },
        },
      );
    }
    return new NetError(
      r.kind === 'HandshakeDecodeError' ? 'HANDSHAKE_DECODE_ERROR' : 'HANDSHAKE_REFUSED',
      `${where}: handshake refused: ${words}`,
      { details: { reason: r.kind, version: r.version, text: r.message } },
    );
  }
  return new NetError('PROTOCOL_ERROR', `${where}: unexpected handshake reply ${reply.type}`);
}

interface Handshaken {
  mux: Mux;
  connectMs: number;
  handshakeMs: number;
  reply: HandshakeMessage;
  proposed: readonly number[];
}

async function connectAndHandshake(o: ConnectPeerOptions): Promise<Handshaken> {
  const where = formatEndpoint({ host: o.host, port: o.port });
  const { socket, connectMs } = await tcpConnect({
    host: o.host,
    port: o.port,
    ...(o.family === undefined ? {} : { family: o.family }),
    timeoutMs: o.connectTimeoutMs,
    signal: o.signal,
  });
  const mux = new Mux(socket);
  const onAbort = (): void => mux.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const hs = new ProtocolPeer(handshakeSpec, mux.channel(Protocol.handshake, 'initiator'), 'client', {
      timeouts: { StConfirm: o.handshakeTimeoutMs } as Partial<Record<HandshakeState, number>>,
    });
    const proposed = o.versions ?? DEFAULT_VERSIONS;
    // Enabled before the propose goes out: the peer's first segments may share a TCP read with its
    // accept. A segment for a protocol we run no instance of still ends the connection.
    mux.enable([
      Protocol.chainSync,
      Protocol.blockFetch,
      Protocol.txSubmission,
      Protocol.keepAlive,
      Protocol.peerSharing,
    ]);
    if (o.initiatorOnly === false) {
      // Duplex: the peer may run its keep-alive client on us; answer it (wire.md §4.5).
      mux.respondOnDemand(Protocol.keepAlive, (ch) => {
        void serveKeepAlive(new ProtocolPeer(keepAliveSpec, ch, 'server'));
      });
    }
    const data: VersionData = {
      networkMagic: o.magic,
      initiatorOnly: o.initiatorOnly ?? true,
      peerSharing: o.peerSharing ? 1 : 0,
      query: o.query ?? false,
      perasSupport: false,
    };
    const started = performance.now();
    await hs.send({ type: 'ProposeVersions', versions: versionTable(proposed, data) });
    let reply: HandshakeMessage;
    try {
      reply = (await hs.recv()).msg;
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new InterruptedError();
      if (e instanceof NetError && e.code === 'HANDSHAKE_TIMEOUT') {
        throw new NetError('HANDSHAKE_TIMEOUT', `${where}: no handshake answer within ${o.handshakeTimeoutMs} ms`, {
          hint: 'the port accepts TCP but does not speak node-to-node (or the node is overloaded)',
          details: { timeoutMs: o.handshakeTimeoutMs },
        });
      }
      if (e instanceof NetError && (e.code === 'CONNECTION_CLOSED' || e.code === 'CONNECTION_RESET')) {
        throw new NetError('HANDSHAKE_CLOSED', `${where}: the peer closed the connection during the handshake`, {
          hint: 'the peer may limit connections, or not speak node-to-node on that port',
          details: { cause: e.code },
        });
      }
      if (e instanceof NetError && e.code === 'PROTOCOL_ERROR') {
        throw new NetError('PROTOCOL_ERROR', `${where}: malformed handshake reply: ${e.message}`, {
          hint: 'the peer answered with something that is not a node-to-node handshake message: it may not be a Cardano node',
          details: e.details,
        });
      }
      if (e instanceof NetError) throw new NetError(e.code, `${where}: ${e.message}`, { details: e.details });
      throw e;
    }
    const handshakeMs = performance.now() - started;
    return { mux, connectMs, handshakeMs, reply, proposed };
  } catch (e) {
    mux.abort();
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Connects and completes the handshake; the connection then runs keep-alive, chain-sync, peer sharing on demand. */
export async function connectPeer(o: ConnectPeerOptions): Promise<PeerConnection> {
  const where = formatEndpoint({ host: o.host, port: o.port });
  const { mux, connectMs, handshakeMs, reply, proposed } = await connectAndHandshake({ ...o, query: false });
  if (reply.type !== 'AcceptVersion') {
    mux.abort();
    throw handshakeFailure(where, reply, o.magic);
  }
  if (!proposed.includes(reply.version)) {
    mux.abort();
    throw new NetError(
      'PROTOCOL_ERROR',
      `${where}: the peer accepted version ${reply.version}, which we did not propose`,
    );
  }
  let versionData: VersionData;
  try {
    versionData = decodeVersionData(reply.version, reply.data);
  } catch (e) {
    mux.abort();
    throw new NetError('PROTOCOL_ERROR', `${where}: bad version data in the accept: ${(e as Error).message}`);
  }
  if (versionData.networkMagic !== o.magic) {
    mux.abort();
    throw new NetError(
      'HANDSHAKE_REFUSED_MAGIC',
      `${where}: the peer accepted with magic ${versionData.networkMagic}, not ${o.magic}`,
    );
  }
  mux.setSduTimeout(30_000);

  let ka: ProtocolPeer<KeepAliveMessage, KeepAliveState> | undefined;
  let cs: ProtocolPeer<ChainSyncMessage, ChainSyncState> | undefined;
  let ps: ProtocolPeer<PeerSharingMessage, PeerSharingState> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = chain.then(f, f);
    chain = p.catch(() => undefined);
    return p;
  };
  const onAbort = (): void => mux.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  void mux.closed.then(() => o.signal?.removeEventListener('abort', onAbort));
  const csPeer = (): ProtocolPeer<ChainSyncMessage, ChainSyncState> => {
    // the must-reply wait is drawn per session in [601 s, 911 s], as the node does for untrusted peers
    cs ??= new ProtocolPeer(chainSyncSpec, mux.channel(Protocol.chainSync, 'initiator'), 'client', {
      timeouts: { StMustReply: mustReplyTimeoutMs() },
    });
    return cs;
  };
  const wrap = (e: unknown): Error => {
    if (o.signal?.aborted) return o.signal.reason instanceof Error ? o.signal.reason : new InterruptedError();
    if (e instanceof NetError)
      return new NetError(e.code, e.message.startsWith(where) ? e.message : `${where}: ${e.message}`, {
        details: e.details,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    return e instanceof Error ? e : new Error(String(e));
  };

  const conn: PeerConnection = {
    host: o.host,
    port: o.port,
    connectMs,
    handshakeMs,
    version: reply.version,
    versionData,
    mux,
    keepAlive: (cookie = randomInt(0, 0x10000), timeoutMs) => {
      // The cookie is a word16 on the wire; a larger one would make the peer drop the connection.
      if (!Number.isInteger(cookie) || cookie < 0 || cookie > 0xffff) {
        return Promise.reject(new RangeError(`keep-alive cookie ${cookie} is outside 0..65535`));
      }
      return serial(async () => {
        try {
          ka ??= new ProtocolPeer(keepAliveSpec, mux.channel(Protocol.keepAlive, 'initiator'), 'client');
          if (timeoutMs !== undefined) ka.setTimeout('StServer', timeoutMs);
          const t0 = performance.now();
          await ka.send({ type: 'KeepAlive', cookie });
          const r = await ka.recv();
          if (r.msg.type !== 'KeepAliveResponse' || r.msg.cookie !== cookie) {
            const err = new NetError('KEEPALIVE_COOKIE_MISMATCH', `${where}: keep-alive answered with another cookie`);
            mux.fail(err);
            throw err;
          }
          return r.at - t0;
        } catch (e) {
          throw wrap(e);
        }
      });
    },
    findTip: (opts = {}) =>
      serial(async () => {
        try {
          const p = csPeer();
          if (opts.timeoutMs !== undefined) p.setTimeout('StIntersect', opts.timeoutMs);
          const t0 = performance.now();
          await p.send({ type: 'FindIntersect', points: [] });
          const r = await p.recv();
          if (r.msg.type !== 'IntersectNotFound' && r.msg.type !== 'IntersectFound')
            throw new NetError('PROTOCOL_ERROR', 'unexpected chain-sync reply');
          return { ...tipOf(r.msg.tip), rttMs: r.at - t0 };
        } catch (e) {
          throw wrap(e);
        }
      }),
    findIntersect: (points, opts = {}) =>
      serial(async () => {
        try {
          const p = csPeer();
          if (opts.timeoutMs !== undefined) p.setTimeout('StIntersect', opts.timeoutMs);
          await p.send({ type: 'FindIntersect', points });
          const r = (await p.recv()).msg;
          if (r.type === 'IntersectFound') return { found: true, point: r.point, tip: r.tip };
          if (r.type === 'IntersectNotFound') return { found: false, point: null, tip: r.tip };
          throw new NetError('PROTOCOL_ERROR', 'unexpected chain-sync reply');
        } catch (e) {
          throw wrap(e);
        }
      }),
    requestNext: (opts = {}) =>
      serial(async () => {
        try {
          const p = csPeer();
          if (opts.timeoutMs !== undefined) {
            p.setTimeout('StCanAwait', opts.timeoutMs);
            p.setTimeout('StMustReply', opts.timeoutMs);
          }
          await p.send({ type: 'RequestNext' });
          let r = await p.recv();
          let awaited = false;
          if (r.msg.type === 'AwaitReply') {
            awaited = true;
            r = await p.recv();
          }
          const m = r.msg;
          if (m.type === 'RollForward') {
            let header: HeaderInfo;
            try {
              header = decodeHeader(m.header);
            } catch (e) {
              const err = new NetError('PROTOCOL_ERROR', `${where}: undecodable header: ${(e as Error).message}`);
              mux.fail(err);
              throw err;
            }
            return { type: 'RollForward', header, tip: m.tip, at: r.at, awaited };
          }
          if (m.type === 'RollBackward') return { type: 'RollBackward', point: m.point, tip: m.tip, at: r.at, awaited };
          throw new NetError('PROTOCOL_ERROR', 'unexpected chain-sync reply');
        } catch (e) {
          throw wrap(e);
        }
      }),
    sharePeers: (amount, opts = {}) =>
      serial(async () => {
        try {
          if (versionData.peerSharing !== 1) {
            throw new NetError('PROTOCOL_ERROR', `${where}: peer sharing was not agreed in the handshake`);
          }
          ps ??= new ProtocolPeer(peerSharingSpec, mux.channel(Protocol.peerSharing, 'initiator'), 'client');
          if (opts.timeoutMs !== undefined) ps.setTimeout('StBusy', opts.timeoutMs);
          await ps.send({ type: 'ShareRequest', amount });
          const r = (await ps.recv()).msg;
          if (r.type !== 'SharePeers') throw new NetError('PROTOCOL_ERROR', 'unexpected peer-sharing reply');
          if (r.peers.length > amount) {
            const err = new NetError('PROTOCOL_ERROR', `${where}: ${r.peers.length} peers shared, ${amount} asked`);
            mux.fail(err);
            throw err;
          }
          return r.peers;
        } catch (e) {
          throw wrap(e);
        }
      }),
    close: async () => {
      if (mux.isClosed) return;
      // Say goodbye where we hold agency, then FIN.
      try {
        if (ka && ka.state === 'StClient') await ka.send({ type: 'Done' });
        if (cs && cs.state === 'StIdle') await cs.send({ type: 'Done' });
        if (ps && ps.state === 'StIdle') await ps.send({ type: 'Done' });
      } catch {
        // the connection is already going away
      }
      await mux.close();
    },
    abort: () => mux.abort(),
  };
  return conn;
}

async function serveKeepAlive(p: ProtocolPeer<KeepAliveMessage, KeepAliveState>): Promise<void> {
  try {
    for (;;) {
      const m = (await p.recv()).msg;
      if (m.type === 'KeepAlive') await p.send({ type: 'KeepAliveResponse', cookie: m.cookie });
      else return;
    }
  } catch {
    // connection errors are reported by the mux
  }
}

/** Handshake query: the peer's version table ("what does this relay run?"). */
export async function queryPeer(o: Omit<ConnectPeerOptions, 'query'>): Promise<QueryResult> {
  const where = formatEndpoint({ host: o.host, port: o.port });
  const { mux, connectMs, handshakeMs, reply } = await connectAndHandshake({ ...o, query: true });
  try {
    if (reply.type === 'QueryReply') {
      return {
        host: o.host,
        port: o.port,
        connectMs,
        handshakeMs,
        versions: reply.versions.map((v: VersionEntry) => {
          try {
            return { version: v.version, data: decodeVersionData(v.version, v.data) };
          } catch {
            return { version: v.version, data: undefined };
          }
        }),
      };
    }
    if (reply.type === 'AcceptVersion') {
      // An older node that ignores query: report what it accepted.
      let data: VersionData | undefined;
      try {
        data = decodeVersionData(reply.version, reply.data);
      } catch {
        data = undefined;
      }
      return { host: o.host, port: o.port, connectMs, handshakeMs, versions: [{ version: reply.version, data }] };
    }
    throw handshakeFailure(where, reply, o.magic);
  } finally {
    mux.abort();
  }
}
