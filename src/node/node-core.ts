/**
 * The connection manager and the inbound governor composed into one pure step, the way the live
 * node wires them (governor.md §1): the inbound governor's calls into the connection manager are
 * direct calls on the same state, the connection manager's "new connection" and "connection
 * closed" notices are handed to the inbound governor within the same step. The shell (sockets,
 * timers, the mux) feeds `NodeEvent`s and performs the returned actions; a simulation does the
 * same in virtual time.
 */
import type { Millis } from '../lib/clock.js';
import * as cm from './connection-manager/core.js';
import * as ig from './inbound-governor/core.js';
import type { Rng } from './rng.js';

export interface NodeState {
  cm: cm.CmState;
  ig: ig.IgState;
}

export function initialNodeState(
  config: cm.CmConfig,
  rng: Rng,
  igConfig: ig.IgConfig = ig.DEFAULT_IG_CONFIG,
): NodeState {
  return { cm: cm.initialCmState(config, rng), ig: ig.initialIgState(igConfig) };
}

export type NodeTimer = cm.CmTimer | 'inboundIdle';

/** What the shell reports (and what the local peer-selection side asks). */
export type NodeEvent =
  | { type: 'acquireOutbound'; peer: cm.Peer }
  | { type: 'releaseOutbound'; conn: cm.ConnId }
  | { type: 'connected'; conn: cm.ConnId; sock: cm.SocketId }
  | { type: 'connectFailed'; conn: cm.ConnId; sock: cm.SocketId }
  /** The server accepted `sock` from `peer` (includeInbound, with the hard limit re-checked). */
  | { type: 'accepted'; peer: cm.Peer; sock: cm.SocketId }
  | { type: 'handshakeDone'; conn: cm.ConnId; sock: cm.SocketId; dataFlow: cm.DataFlow }
  | { type: 'handshakeFailed'; conn: cm.ConnId; sock: cm.SocketId; failure: cm.HandshakeFailure }
  | { type: 'responderStarted'; conn: cm.ConnId; hot: boolean }
  | { type: 'responderTerminated'; conn: cm.ConnId; hot: boolean; clean: boolean }
  /** The mux or socket of `conn` ended (error, remote close or reset). */
  | { type: 'connectionError'; conn: cm.ConnId }
  | { type: 'timer'; conn: cm.ConnId; timer: NodeTimer }
  | { type: 'wakeup' };

export type NodeAction = cm.CmAction | ig.IgAction;

export interface NodeStepResult {
  /** The synchronous answer of the method the event called, if it has one. */
  result: cm.AcquireAnswer | cm.IncludeResult | cm.ReleaseOutboundResult | undefined;
  actions: NodeAction[];
  cmTrace: cm.CmTrace[];
  igTrace: ig.IgTrace[];
}

/** Applies one event at `now`; the state is updated in place. */
export function nodeStep(s: NodeState, event: NodeEvent, now: Millis): NodeStepResult {
  const cmOut = cm.newOut();
  const igOut: ig.IgOut = { actions: [], trace: [] };
  const port: ig.CmPort = {
    promotedToWarmRemote: (conn) => cm.promotedToWarmRemote(s.cm, now, conn, cmOut),
    demotedToColdRemote: (conn) => cm.demotedToColdRemote(s.cm, now, conn, cmOut),
    releaseInbound: (conn) => cm.releaseInbound(s.cm, now, conn, cmOut),
  };
  let result: NodeStepResult['result'];
  switch (event.type) {
    case 'acquireOutbound':
      result = cm.acquireOutbound(s.cm, now, event.peer, cmOut);
      break;
    case 'releaseOutbound':
      result = cm.releaseOutbound(s.cm, now, event.conn, cmOut);
      break;
    case 'connected':
      cm.connected(s.cm, now, event.conn, event.sock, cmOut);
      break;
    case 'connectFailed':
      cm.connectFailed(s.cm, now, event.conn, event.sock, cmOut);
      break;
    case 'accepted':
      result = cm.includeInbound(s.cm, now, event.peer, event.sock, cmOut);
      break;
    case 'handshakeDone':
      cm.handshakeDone(s.cm, now, event.conn, event.sock, event.dataFlow, cmOut);
      break;
    case 'handshakeFailed':
      cm.handshakeFailed(s.cm, now, event.conn, event.sock, event.failure, cmOut);
      break;
    case 'responderStarted':
      ig.responderStarted(s.ig, now, event.conn, event.hot, port, igOut);
      break;
    case 'responderTerminated':
      ig.responderTerminated(s.ig, now, event.conn, event.hot, event.clean, port, igOut);
      break;
    case 'connectionError':
      cm.connectionError(s.cm, now, event.conn, cmOut);
      break;
    case 'timer':
      if (event.timer === 'inboundIdle') ig.idleTimerFired(s.ig, now, event.conn, port, igOut);
      else cm.timerFired(s.cm, now, event.conn, event.timer, cmOut);
      break;
    case 'wakeup':
      ig.wakeup(s.ig, now, igOut);
      break;
  }
  // hand the connection manager's notices to the inbound governor (which may call back and add more)
  for (let i = 0; i < cmOut.actions.length; i++) {
    const a = cmOut.actions[i] as cm.CmAction;
    if (a.type === 'newConnection') ig.newConnection(s.ig, now, a, igOut);
    else if (a.type === 'connectionClosed') ig.connectionClosed(s.ig, now, a.conn, igOut);
  }
  return {
    result,
    actions: [...cmOut.actions, ...igOut.actions],
    cmTrace: cmOut.trace,
    igTrace: igOut.trace,
  };
}
