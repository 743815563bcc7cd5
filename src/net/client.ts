/**
 * Dialling a peer over TCP: connect (with a real timeout), handshake as the proposer, and the
 * negotiated connection (`connection.ts`), whose clients run keep-alive, chain-sync and peer
 * sharing independently. Failures are NetErrors whose code names the stage (CONNECT_*,
 * HANDSHAKE_*, KEEPALIVE_*, CHAINSYNC_*, PROTOCOL_ERROR).
 */
import { formatEndpoint } from '../lib/address.js';
import type { Clock } from '../lib/clock.js';
import { DEFAULT_VERSIONS, type VersionData } from './codec/handshake.js';
import { type Connection, openConnection } from './connection.js';
import { NetError } from './errors.js';
import type { QueriedVersion } from './handshake.js';
import { nodeResponders } from './protocols/responders.js';
import type { Responders } from './protocols/types.js';
import { tcpConnect } from './transport/tcp.js';

export type { PeerConnection } from './connection.js';
export { type ChainSyncEvent, type PeerTip, tipOf } from './protocols/chain-sync/client.js';

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
  /** Propose initiator-only (default) or duplex (initiator and responder). */
  initiatorOnly?: boolean;
  /** Ask for peer sharing (default false). */
  peerSharing?: boolean;
  /**
   * What we answer as responder when the connection is duplex (default: keep-alive, an empty
   * chain for chain-sync, no peers to share, no blocks, tx-submission's MsgInit taken).
   */
  responders?: Responders;
  clock?: Clock;
  random?: () => number;
}

export interface QueryResult {
  host: string;
  port: number;
  connectMs: number;
  handshakeMs: number;
  versions: QueriedVersion[];
}

function ownData(o: ConnectPeerOptions, query: boolean): VersionData {
  return {
    networkMagic: o.magic,
    initiatorOnly: o.initiatorOnly ?? true,
    peerSharing: o.peerSharing ? 1 : 0,
    query,
    perasSupport: false,
  };
}

async function dial(o: ConnectPeerOptions, query: boolean) {
  const { bearer, connectMs } = await tcpConnect({
    host: o.host,
    port: o.port,
    ...(o.family === undefined ? {} : { family: o.family }),
    timeoutMs: o.connectTimeoutMs,
    signal: o.signal,
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const result = await openConnection(bearer, {
    role: 'proposer',
    versions: o.versions ?? DEFAULT_VERSIONS,
    data: ownData(o, query),
    handshakeTimeoutMs: o.handshakeTimeoutMs,
    peer: { host: o.host, port: o.port },
    connectMs,
    signal: o.signal,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.random ? { random: o.random } : {}),
    responders: o.responders ?? nodeResponders(),
  });
  return { result, connectMs };
}

/** Connects and completes the handshake; the connection then runs each mini-protocol on demand. */
export async function connectPeer(o: ConnectPeerOptions): Promise<Connection> {
  const { result } = await dial(o, false);
  if (result.kind === 'connected') return result.connection;
  // A query reply to a proposal without query: the peer broke the handshake.
  result.mux.abort();
  throw new NetError('PROTOCOL_ERROR', `${formatEndpoint({ host: o.host, port: o.port })}: unexpected handshake reply`);
}

/** Handshake query: the peer's version table ("what does this relay run?"); the connection is then closed. */
export async function queryPeer(o: Omit<ConnectPeerOptions, 'query'>): Promise<QueryResult> {
  const { result, connectMs } = await dial(o, true);
  if (result.kind === 'connected') {
    // A peer that accepted without honouring query: report what it accepted.
    const c = result.connection;
    c.abort();
    return {
      host: o.host,
      port: o.port,
      connectMs,
      handshakeMs: c.handshakeMs,
      versions: [{ version: c.version, data: c.versionData }],
    };
  }
  result.mux.abort();
  if (result.kind !== 'query') throw new NetError('PROTOCOL_ERROR', `${formatEndpoint(o)}: unexpected handshake reply`);
  return { host: o.host, port: o.port, connectMs, handshakeMs: result.handshakeMs, versions: result.versions };
}
