/**
 * The responder side: a node-to-node server that answers the handshake (highest common version,
 * combined version data, query replies, refusals as the node words them), keep-alive, peer sharing
 * from a configured list, and chain-sync over a synthetic chain that grows on a schedule.
 * Used by `spo serve`, the tests and (later) the local testnet.
 */
import { EventEmitter } from 'node:events';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { formatEndpoint } from '../lib/address.js';
import { type ChainBlock, SyntheticChain } from './chain.js';
import type { BlockFetchMessage } from './codec/block-fetch.js';
import type { ChainSyncMessage } from './codec/chain-sync.js';
import { acceptProposal, DEFAULT_VERSIONS, encodeVersionData, type VersionData } from './codec/handshake.js';
import type { KeepAliveMessage } from './codec/keep-alive.js';
import type { PeerAddress, PeerSharingMessage } from './codec/peer-sharing.js';
import type { TxSubmissionMessage } from './codec/tx-submission.js';
import { NetError } from './errors.js';
import { Protocol } from './mux/limits.js';
import { type Channel, Mux } from './mux/mux.js';
import { ProtocolPeer } from './protocol/peer.js';
import {
  type BlockFetchState,
  blockFetchSpec,
  type ChainSyncState,
  chainSyncSpec,
  handshakeSpec,
  type KeepAliveState,
  keepAliveSpec,
  type PeerSharingState,
  peerSharingSpec,
  type TxSubmissionState,
  txSubmissionSpec,
} from './protocol/specs.js';

/** Test-only misbehaviour, for checking clients (ping, probe) against broken peers. */
export type ServerFault =
  | { kind: 'none' }
  /** Accept TCP, read everything, never answer. */
  | { kind: 'never-answer' }
  /** Read the proposal, then close the connection without answering. */
  | { kind: 'close-mid-handshake' }
  /** Delay every answer by `ms`. */
  | { kind: 'slow'; ms: number };

export function parseFault(text: string): ServerFault {
  if (text === 'none') return { kind: 'none' };
  if (text === 'never-answer' || text === 'close-mid-handshake') return { kind: text };
  const m = /^slow=(\d+)$/.exec(text);
  if (m) return { kind: 'slow', ms: Number(m[1]) };
  throw new Error(`unknown fault "${text}" (never-answer, close-mid-handshake, slow=MS)`);
}

export interface ServerOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  magic: number;
  /** A new header every this many ms (0 = the chain does not grow). */
  blockIntervalMs?: number;
  /** Blocks on the chain at start. */
  initialBlocks?: number;
  /** Addresses shared by peer sharing. */
  peers?: PeerAddress[];
  /** Versions offered (default 14, 15). */
  versions?: readonly number[];
  /** Our own version data flags (default duplex, peer sharing on). */
  initiatorOnly?: boolean;
  peerSharing?: boolean;
  fault?: ServerFault;
  maxConnections?: number;
  /**
   * Close an inbound connection on which no responder runs for this long: after the handshake,
   * and after the last responder ended (the node's 5 s protocol idle timeout). Default: off.
   */
  idleTimeoutMs?: number;
  chain?: SyntheticChain;
}

export interface ServerEvents {
  connection: [remote: string];
  handshake: [remote: string, outcome: string];
  disconnect: [remote: string, error: NetError | undefined];
}

export interface RunningServer {
  /** The address the server listens on, e.g. `127.0.0.1:3001` or `[::1]:3001`. */
  address: string;
  host: string;
  port: number;
  chain: SyntheticChain;
  events: EventEmitter<ServerEvents>;
  connections(): number;
  stats(): { accepted: number; handshakes: number; refused: number; errors: number };
  close(): Promise<void>;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  const fault = o.fault ?? { kind: 'none' };
  const chain = o.chain ?? new SyntheticChain();
  for (let i = chain.blocks.length; i < (o.initialBlocks ?? 10); i++) chain.extend();
  const own: { versions: readonly number[]; data: VersionData } = {
    versions: o.versions ?? DEFAULT_VERSIONS,
    data: {
      networkMagic: o.magic,
      initiatorOnly: o.initiatorOnly ?? false,
      peerSharing: (o.peerSharing ?? true) ? 1 : 0,
      query: false,
      perasSupport: false,
    },
  };
  const events = new EventEmitter<ServerEvents>();
  const muxes = new Set<Mux>();
  const raw = new Set<Socket>();
  const stats = { accepted: 0, handshakes: 0, refused: 0, errors: 0 };
  const slow = fault.kind === 'slow' ? fault.ms : 0;

  const server: Server = createServer({ noDelay: true }, (socket) => {
    stats.accepted++;
    const remote = formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    events.emit('connection', remote);
    if (fault.kind === 'never-answer') {
      raw.add(socket);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => raw.delete(socket));
      return;
    }
    const mux = new Mux(socket);
    muxes.add(mux);
    mux.on('close', (err) => {
      muxes.delete(mux);
      if (err && err.code !== 'CONNECTION_CLOSED' && err.code !== 'CONNECTION_RESET') stats.errors++;
      events.emit('disconnect', remote, err);
    });
    void handleConnection(mux, remote);
  });
  server.maxConnections = o.maxConnections ?? 512;

  async function handleConnection(mux: Mux, remote: string): Promise<void> {
    try {
      const hs = new ProtocolPeer(handshakeSpec, mux.channel(Protocol.handshake, 'responder'), 'server');
      const first = (await hs.recv()).msg;
      if (first.type !== 'ProposeVersions') throw new NetError('PROTOCOL_ERROR', 'expected MsgProposeVersions');
      if (fault.kind === 'close-mid-handshake') {
        mux.abort();
        return;
      }
      if (slow) await delay(slow);
      const d = acceptProposal(first.versions, own);
      if (d.kind === 'refuse') {
        stats.refused++;
        events.emit('handshake', remote, `refused: ${d.reason.kind}`);
        await hs.send({ type: 'Refuse', reason: d.reason });
        await mux.close();
        return;
      }
      if (d.kind === 'query') {
        events.emit('handshake', remote, 'query');
        await hs.send({ type: 'QueryReply', versions: d.versions });
        await mux.close();
        return;
      }
      stats.handshakes++;
      events.emit('handshake', remote, `accepted v${d.version}`);
      // A Haskell relay that makes us hot also starts block-fetch and tx-submission (wire.md §9);
      // a segment for a protocol that is not enabled would kill the connection.
      const protocols: number[] = [Protocol.chainSync, Protocol.blockFetch, Protocol.txSubmission, Protocol.keepAlive];
      if (d.data.peerSharing === 1) protocols.push(Protocol.peerSharing);
      mux.enable(protocols);
      mux.setSduTimeout(30_000);
      mux.respondOnDemand(Protocol.keepAlive, (ch) => void keepAliveResponder(ch));
      mux.respondOnDemand(Protocol.chainSync, (ch) => void chainSyncResponder(ch));
      mux.respondOnDemand(Protocol.blockFetch, (ch) => void blockFetchResponder(ch));
      mux.respondOnDemand(Protocol.txSubmission, (ch) => void txSubmissionResponder(ch));
      if (d.data.peerSharing === 1) mux.respondOnDemand(Protocol.peerSharing, (ch) => void peerSharingResponder(ch));
      if (o.idleTimeoutMs && o.idleTimeoutMs > 0) watchIdle(mux, o.idleTimeoutMs);
      await hs.send({ type: 'AcceptVersion', version: d.version, data: encodeVersionData(d.version, d.data) });
    } catch {
      // the mux has recorded the error and closed the connection
    }
  }

  /** Closes the connection when no responder has been running for `ms` (wire.md §1 item 5). */
  function watchIdle(mux: Mux, ms: number): void {
    let running = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = setTimeout(() => void mux.close(), ms);
    };
    mux.on('protocolStart', (_p, role) => {
      if (role !== 'responder') return;
      running++;
      if (timer) clearTimeout(timer);
      timer = undefined;
    });
    mux.on('protocolEnd', (_p, role) => {
      if (role !== 'responder') return;
      running--;
      if (running === 0) arm();
    });
    mux.on('close', () => {
      if (timer) clearTimeout(timer);
    });
    arm();
  }

  async function keepAliveResponder(ch: Channel): Promise<void> {
    const p: ProtocolPeer<KeepAliveMessage, KeepAliveState> = new ProtocolPeer(keepAliveSpec, ch, 'server');
    try {
      for (;;) {
        const m = (await p.recv()).msg;
        if (m.type !== 'KeepAlive') return;
        if (slow) await delay(slow);
        await p.send({ type: 'KeepAliveResponse', cookie: m.cookie });
      }
    } catch {
      // reported by the mux
    }
  }

  /** No block bodies here: every range gets MsgNoBlocks (a relay's StBusy limit is 60 s). */
  async function blockFetchResponder(ch: Channel): Promise<void> {
    const p: ProtocolPeer<BlockFetchMessage, BlockFetchState> = new ProtocolPeer(blockFetchSpec, ch, 'server');
    try {
      for (;;) {
        const m = (await p.recv()).msg;
        if (m.type !== 'RequestRange') return;
        await p.send({ type: 'NoBlocks' });
      }
    } catch {
      // reported by the mux
    }
  }

  /** Takes the relay's MsgInit and then stays silent: spo never asks for transactions. */
  async function txSubmissionResponder(ch: Channel): Promise<void> {
    const p: ProtocolPeer<TxSubmissionMessage, TxSubmissionState> = new ProtocolPeer(txSubmissionSpec, ch, 'server');
    try {
      await p.recv();
    } catch {
      // reported by the mux
    }
  }

  async function peerSharingResponder(ch: Channel): Promise<void> {
    const p: ProtocolPeer<PeerSharingMessage, PeerSharingState> = new ProtocolPeer(peerSharingSpec, ch, 'server');
    try {
      for (;;) {
        const m = (await p.recv()).msg;
        if (m.type !== 'ShareRequest') return;
        if (slow) await delay(slow);
        // never more than asked (more is a protocol violation), and at most 10 as the node
        await p.send({ type: 'SharePeers', peers: (o.peers ?? []).slice(0, Math.min(m.amount, 10)) });
      }
    } catch {
      // reported by the mux
    }
  }

  async function chainSyncResponder(ch: Channel): Promise<void> {
    const p: ProtocolPeer<ChainSyncMessage, ChainSyncState> = new ProtocolPeer(chainSyncSpec, ch, 'server');
    // Read pointer: block number of the last header sent (0 = origin); a fresh session starts with
    // a roll back to origin (wire.md §6.5).
    let pointer = 0;
    let rollback: ChainBlock | null | undefined = null;
    const blockAt = (n: number): ChainBlock | undefined => {
      const first = chain.blocks[0];
      return first ? chain.blocks[n - first.blockNo] : undefined;
    };
    try {
      for (;;) {
        const m = (await p.recv()).msg;
        if (slow) await delay(slow);
        if (m.type === 'Done') return;
        if (m.type === 'FindIntersect') {
          let found: ChainBlock | null | undefined;
          for (const pt of m.points) {
            const i = chain.indexOf(pt);
            if (i !== undefined) {
              found = i < 0 ? null : chain.blocks[i];
              break;
            }
          }
          if (found === undefined) await p.send({ type: 'IntersectNotFound', tip: chain.tip() });
          else {
            pointer = found ? found.blockNo : 0;
            rollback = found;
            await p.send({
              type: 'IntersectFound',
              point: found ? { slot: found.slot, hash: found.hash } : null,
              tip: chain.tip(),
            });
          }
          continue;
        }
        if (m.type !== 'RequestNext') return;
        if (rollback !== undefined) {
          const rb = rollback;
          rollback = undefined;
          await p.send({ type: 'RollBackward', point: rb ? { slot: rb.slot, hash: rb.hash } : null, tip: chain.tip() });
          continue;
        }
        let next = blockAt(pointer + 1);
        if (!next && pointer + 1 < (chain.blocks[0]?.blockNo ?? 1)) next = chain.blocks[0]; // fell out of the window
        if (!next) {
          await p.send({ type: 'AwaitReply' });
          await new Promise<void>((resolve) => {
            const old = ch.onClose;
            const wake = (): void => {
              off();
              ch.onClose = old;
              resolve();
            };
            const off = chain.onExtend(wake);
            ch.onClose = (e) => {
              wake();
              old?.(e);
            };
          });
          if (ch.mux.isClosed) return;
          next = blockAt(pointer + 1) ?? chain.blocks[chain.blocks.length - 1];
          if (!next) return;
        }
        pointer = next.blockNo;
        await p.send({ type: 'RollForward', header: next.header, tip: chain.tip() });
      }
    } catch {
      // reported by the mux
    }
  }

  let timer: NodeJS.Timeout | undefined;
  if (o.blockIntervalMs && o.blockIntervalMs > 0) {
    timer = setInterval(() => chain.extend(), o.blockIntervalMs);
    timer.unref();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: o.port ?? 0, ipv6Only: isIPv6(host) }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 0);
  const boundHost = typeof addr === 'object' && addr ? addr.address : host;
  return {
    address: formatEndpoint({ host: boundHost, port }),
    host: boundHost,
    port,
    chain,
    events,
    connections: () => muxes.size + raw.size,
    stats: () => ({ ...stats }),
    close: async () => {
      if (timer) clearInterval(timer);
      const closed = new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...muxes].map((m) => m.close(500)));
      for (const s of raw) s.destroy();
      await closed;
    },
  };
}
