/**
 * The inbound governor's shell (governor.md §10): what the pure core (core.ts) needs from a live
 * connection. The reference detects the remote's use of a connection by intercepting the mux's
 * tracer (responder started on demand / terminated); here the `Connection` object already emits
 * `responderStart` / `responderEnd` / `responderError` with the protocol's temperature, so this
 * module turns them into the core's events. The core's timers (the 5 s inbound idle timeout, the
 * maturation wake-up) run in the connection manager's shell, which owns the clock for both cores
 * (they step together, node-core.ts). Public state (remote states, mature duplex peers offered to
 * peer sharing) is read from the core's state here.
 */

import type { PeerAddress } from '../../net/codec/peer-sharing.js';
import type { Connection } from '../../net/connection.js';
import { Protocol } from '../../net/mux/limits.js';
import { temperatureOf } from '../../net/protocols/types.js';
import type { ConnId } from '../connection-manager/core.js';
import type { RemoteSt } from '../transitions.js';
import type { IgState } from './core.js';

export type ResponderActivity =
  | { type: 'responderStarted'; conn: ConnId; hot: boolean }
  | { type: 'responderTerminated'; conn: ConnId; hot: boolean; clean: boolean };

const RESPONDER_PROTOCOLS = [
  Protocol.chainSync,
  Protocol.blockFetch,
  Protocol.txSubmission,
  Protocol.keepAlive,
  Protocol.peerSharing,
];

/**
 * Feeds `conn`'s responder activity to `feed` until the returned function is called. Responders
 * that started before the listeners were attached (segments that came with the handshake answer
 * are released while the connection object is built) are reported at once, so the core never
 * misses a running responder and times out a connection that is in use.
 */
export function watchResponders(
  connection: Connection,
  conn: ConnId,
  feed: (e: ResponderActivity) => void,
): () => void {
  const running = new Set<number>();
  const onStart = (p: number): void => {
    running.add(p);
    feed({ type: 'responderStarted', conn, hot: temperatureOf(p) === 'hot' });
  };
  const onEnd = (p: number): void => {
    if (!running.delete(p)) return;
    feed({ type: 'responderTerminated', conn, hot: temperatureOf(p) === 'hot', clean: true });
  };
  const onError = (p: number): void => {
    if (!running.delete(p)) return;
    feed({ type: 'responderTerminated', conn, hot: temperatureOf(p) === 'hot', clean: false });
  };
  connection.on('responderStart', onStart);
  connection.on('responderEnd', onEnd);
  connection.on('responderError', onError);
  if (connection.runsResponders) {
    for (const p of RESPONDER_PROTOCOLS) if (connection.mux.running(p, 'responder')) onStart(p);
  }
  return () => {
    connection.off('responderStart', onStart);
    connection.off('responderEnd', onEnd);
    connection.off('responderError', onError);
  };
}

/** The remote state of every connection the inbound governor watches. */
export function remoteStates(s: IgState): Map<ConnId, RemoteSt> {
  return new Map([...s.conns.values()].map((c) => [c.conn, c.remote]));
}

/**
 * Mature duplex peers (connected for 15 min or more), as peer-sharing addresses: what the outbound
 * side may offer to peer sharing (the reference's `matureDuplexPeers`). Peers whose address is not
 * an IP literal with a port are skipped (peer sharing carries IP addresses only).
 */
export function matureDuplexPeers(s: IgState): PeerAddress[] {
  const out: PeerAddress[] = [];
  for (const peer of s.mature) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(peer) ?? /^([0-9.]+):(\d+)$/.exec(peer);
    if (!m) continue;
    const address = m[1] as string;
    out.push({ family: address.includes(':') ? 6 : 4, address, port: Number(m[2]) });
  }
  return out;
}
