/**
 * The connection manager's pure core (governor.md §8; the reference's
 * `Ouroboros.Network.ConnectionManager.Core`): one entry per remote peer address, the states and
 * transitions of §8.3 driven by the methods of §8.4, the timers of §8.6 and pruning above the
 * inbound hard limit (§8.5).
 *
 * Shape: every method takes the state (updated in place: it is the reference's TVars), `now` and
 * an `Out` collector, and returns its answer; what the shell must do (connect, start a handshake,
 * reset a socket, arm or cancel a timer, tell the inbound governor, answer a waiting acquirer) is
 * pushed to `out.actions`, every state change to `out.trace`. No sockets, timers, clock or global
 * randomness: time is `now`, randomness is the injected `Rng` held in the state.
 *
 * Connections are identified by `ConnId`, a number this core hands out per entry (the reference's
 * `ConnStateId`); a new inbound connection accepted while an older one from the same peer is still
 * in TIME_WAIT gets a new id, and the old one finishes its TIME_WAIT on its own.
 */
import type { Millis } from '../../lib/clock.js';
import type { Rng } from '../rng.js';
import type { CmSt } from '../transitions.js';

export type Peer = string;
export type ConnId = number;
/** The shell's name for a socket: `o<n>` for sockets this core asks to connect, anything else for accepted ones. */
export type SocketId = string;
export type Provenance = 'inbound' | 'outbound';
export type DataFlow = 'unidirectional' | 'duplex';
export type CmTimer = 'handshake' | 'outboundIdle' | 'timeWait';

/** Defaults from governor.md §11 (milliseconds). */
export const HANDSHAKE_TIMEOUT: Millis = 10_000;
export const PROTOCOL_IDLE_TIMEOUT: Millis = 5_000;
export const TIME_WAIT_TIMEOUT: Millis = 60_000;

export interface CmConfig {
  /**
   * The listening address outbound sockets bind to when the node runs as initiator and responder
   * (so the remote sees our real address and can reuse the connection); undefined = initiator only.
   */
  listenAddress: string | undefined;
  /** The inbound hard limit (AcceptedConnectionsLimit's hard limit, 512). */
  hardLimit: number;
  handshakeTimeout: Millis;
  /** How long a released outbound connection waits before its reset (5 s). */
  outboundIdleTimeout: Millis;
  /** The application-level TIME_WAIT (60 s). */
  timeWaitTimeout: Millis;
}

export function defaultCmConfig(listenAddress: string | undefined, hardLimit = 512): CmConfig {
  return {
    listenAddress,
    hardLimit,
    handshakeTimeout: HANDSHAKE_TIMEOUT,
    outboundIdleTimeout: PROTOCOL_IDLE_TIMEOUT,
    timeWaitTimeout: TIME_WAIT_TIMEOUT,
  };
}

export interface Conn {
  readonly id: ConnId;
  readonly peer: Peer;
  st: CmSt;
  /** When `st` was entered. */
  since: Millis;
  /** The socket this core dialled for this entry, if any. */
  outboundSock: SocketId | undefined;
  /** The accepted socket of this entry, if any. */
  inboundSock: SocketId | undefined;
  /** The running core timer (at most one: handshake, outbound idle or time-wait). */
  timer: { kind: CmTimer; at: Millis } | undefined;
  /** The acquire that dialled this entry, answered when its handshake ends. */
  acquirer: number | undefined;
  /** Acquires waiting for this entry's inbound handshake (then reused) or for its TIME_WAIT to end. */
  waiters: number[];
  /** The negotiated data flow (known once a handshake ended). */
  dataFlow: DataFlow | undefined;
}

/**
 * The node's `connectionManager.*` counters (the reference's `ConnectionManagerCounters`). Current
 * nodes export all but `terminatingConns` under these names (`connectionManager.inboundConns`, ...);
 * older nodes' legacy tracer called inbound/outbound `incomingConns`/`outgoingConns`
 * (docs/ARCHITECTURE.md, src/node).
 */
export interface CmCounters {
  fullDuplexConns: number;
  duplexConns: number;
  unidirectionalConns: number;
  inboundConns: number;
  outboundConns: number;
  terminatingConns: number;
}

export interface CmState {
  config: CmConfig;
  rng: Rng;
  /** The current entry per remote peer. */
  byPeer: Map<Peer, ConnId>;
  /** Every entry not yet gone, including older ones still in TIME_WAIT after being replaced. */
  conns: Map<ConnId, Conn>;
  /** Kept up to date on every state change; `deriveCmCounters` recomputes it from the states. */
  counters: CmCounters;
  nextConn: number;
  nextSock: number;
  nextReq: number;
  /** Acquires waiting on an entry, by request id: the peer they asked for. */
  pending: Map<number, Peer>;
}

export type AcquireError = 'ConnectionExists' | 'ForbiddenOperation' | 'ForbiddenConnection';
export type DisconnectReason =
  | 'ConnectFailed'
  | 'HandshakeFailed'
  | 'HandshakeTimeout'
  | 'ConnectionError'
  | 'Pruned'
  | 'ConnectionTerminating';

export type AcquireResult =
  | { kind: 'connected'; conn: ConnId; dataFlow: DataFlow }
  | { kind: 'disconnected'; conn: ConnId | undefined; reason: DisconnectReason }
  | { kind: 'error'; error: AcquireError };

export type CmAction =
  /** Dial `peer` on a new socket, bound to `bindLocal` when given (the listening address). */
  | { type: 'connect'; conn: ConnId; peer: Peer; sock: SocketId; bindLocal: string | undefined }
  /** Run the handshake on `sock`: as initiator for outbound sockets, responder for accepted ones. */
  | { type: 'startHandshake'; conn: ConnId; sock: SocketId; provenance: Provenance }
  /** Close `sock`; `reset` = with an RST (SO_LINGER 0, as every node-to-node close in the node). */
  | { type: 'closeSocket'; conn: ConnId | undefined; sock: SocketId; reset: boolean }
  | { type: 'armTimer'; conn: ConnId; timer: CmTimer; at: Millis }
  | { type: 'cancelTimer'; conn: ConnId; timer: CmTimer }
  /** Tell the inbound governor about a negotiated connection it must watch (§10.2 NewConnection). */
  | { type: 'newConnection'; conn: ConnId; peer: Peer; provenance: Provenance; dataFlow: DataFlow }
  /** The connection's sockets are gone (its mux stops): the inbound governor forgets it. */
  | { type: 'connectionClosed'; conn: ConnId; peer: Peer }
  /** Answer an acquire that had to wait. */
  | { type: 'acquireDone'; req: number; peer: Peer; result: AcquireResult };

export type CmTrace =
  | { type: 'transition'; conn: ConnId; peer: Peer; from: CmSt; to: CmSt; at: Millis }
  | { type: 'prune'; pruned: ConnId[]; candidates: ConnId[]; count: number; at: Millis }
  | { type: 'acquireRefused'; peer: Peer; error: AcquireError; at: Millis }
  | { type: 'inboundRefused'; peer: Peer; at: Millis }
  /** The reference's TrUnexpectedlyFalseAssertion: a method called in a state it should not see. */
  | { type: 'unexpected'; conn: ConnId | undefined; method: string; st: CmSt; at: Millis };

export interface Out {
  actions: CmAction[];
  trace: CmTrace[];
}

export function newOut(): Out {
  return { actions: [], trace: [] };
}

export function initialCmState(config: CmConfig, rng: Rng): CmState {
  return {
    config,
    rng,
    byPeer: new Map(),
    conns: new Map(),
    counters: zeroCounters(),
    nextConn: 1,
    nextSock: 1,
    nextReq: 1,
    pending: new Map(),
  };
}

export function zeroCounters(): CmCounters {
  return {
    fullDuplexConns: 0,
    duplexConns: 0,
    unidirectionalConns: 0,
    inboundConns: 0,
    outboundConns: 0,
    terminatingConns: 0,
  };
}

/** What one connection in state `st` adds to the counters (the reference's `connectionStateToCounters`). */
export function stateCounters(st: CmSt): CmCounters {
  const c = zeroCounters();
  switch (st) {
    case 'UnnegotiatedIn':
      c.inboundConns = 1;
      break;
    case 'UnnegotiatedOut':
      c.outboundConns = 1;
      break;
    case 'OutboundUni':
    case 'OutboundIdleUni':
      c.unidirectionalConns = 1;
      c.outboundConns = 1;
      break;
    case 'OutboundDupTicking':
    case 'OutboundDupExpired':
    case 'OutboundIdleDup':
      c.duplexConns = 1;
      c.outboundConns = 1;
      break;
    case 'InboundIdleUni':
    case 'InboundUni':
      c.unidirectionalConns = 1;
      c.inboundConns = 1;
      break;
    case 'InboundIdleDup':
    case 'InboundDup':
      c.duplexConns = 1;
      c.inboundConns = 1;
      break;
    case 'Duplex':
      c.fullDuplexConns = 1;
      c.duplexConns = 1;
      c.inboundConns = 1;
      c.outboundConns = 1;
      break;
    case 'Terminating':
      c.terminatingConns = 1;
      break;
    default:
      break;
  }
  return c;
}

function addCounters(into: CmCounters, c: CmCounters, sign: 1 | -1): void {
  into.fullDuplexConns += sign * c.fullDuplexConns;
  into.duplexConns += sign * c.duplexConns;
  into.unidirectionalConns += sign * c.unidirectionalConns;
  into.inboundConns += sign * c.inboundConns;
  into.outboundConns += sign * c.outboundConns;
  into.terminatingConns += sign * c.terminatingConns;
}

/** The counters recomputed from the entries' states (the test checks they equal `state.counters`). */
export function deriveCmCounters(s: CmState): CmCounters {
  const c = zeroCounters();
  for (const conn of s.conns.values()) addCounters(c, stateCounters(conn.st), 1);
  return c;
}

/** Inbound-counted states (§8.5): these count against the hard limit and are pruning candidates. */
export function isInboundCounted(st: CmSt): boolean {
  return (
    st === 'UnnegotiatedIn' ||
    st === 'InboundIdleUni' ||
    st === 'InboundIdleDup' ||
    st === 'InboundUni' ||
    st === 'InboundDup' ||
    st === 'Duplex'
  );
}

/** "Upstream" connections (also used outbound) are pruned last (the reference's `prunePolicy`). */
export function isUpstream(st: CmSt): boolean {
  return (
    st === 'UnnegotiatedOut' ||
    st === 'OutboundIdleUni' ||
    st === 'OutboundIdleDup' ||
    st === 'OutboundUni' ||
    st === 'OutboundDupTicking' ||
    st === 'OutboundDupExpired' ||
    st === 'Duplex'
  );
}

// ---------------------------------------------------------------------------------------------
// State changes, timers, termination

function setState(s: CmState, c: Conn, to: CmSt, now: Millis, out: Out): void {
  const from = c.st;
  addCounters(s.counters, stateCounters(from), -1);
  addCounters(s.counters, stateCounters(to), 1);
  c.st = to;
  c.since = now;
  out.trace.push({ type: 'transition', conn: c.id, peer: c.peer, from, to, at: now });
}

function arm(c: Conn, kind: CmTimer, at: Millis, out: Out): void {
  if (c.timer && c.timer.kind !== kind) out.actions.push({ type: 'cancelTimer', conn: c.id, timer: c.timer.kind });
  c.timer = { kind, at };
  out.actions.push({ type: 'armTimer', conn: c.id, timer: kind, at });
}

function disarm(c: Conn, out: Out): void {
  if (c.timer) out.actions.push({ type: 'cancelTimer', conn: c.id, timer: c.timer.kind });
  c.timer = undefined;
}

function closeSockets(c: Conn, out: Out): void {
  for (const sock of [c.outboundSock, c.inboundSock]) {
    if (sock !== undefined) out.actions.push({ type: 'closeSocket', conn: c.id, sock, reset: true });
  }
  c.outboundSock = undefined;
  c.inboundSock = undefined;
}

function answer(s: CmState, req: number, result: AcquireResult, out: Out): void {
  const peer = s.pending.get(req);
  if (peer === undefined) return;
  s.pending.delete(req);
  out.actions.push({ type: 'acquireDone', req, peer, result });
}

/**
 * Ends a connection's life without TIME_WAIT (errors, pruning, handshake violations): state
 * Terminated, sockets reset, then the entry is removed (Terminated -> Unknown). Acquirers are told;
 * those that waited for the entry to go away start afresh.
 */
function terminate(s: CmState, c: Conn, now: Millis, out: Out, reason: DisconnectReason): void {
  const hadSockets = c.outboundSock !== undefined || c.inboundSock !== undefined;
  if (c.st !== 'Terminated') setState(s, c, 'Terminated', now, out);
  disarm(c, out);
  closeSockets(c, out);
  if (hadSockets) out.actions.push({ type: 'connectionClosed', conn: c.id, peer: c.peer });
  remove(s, c, now, out, reason);
}

/** Terminated -> Unknown: forget the entry, and answer or restart whoever waited on it. */
function remove(s: CmState, c: Conn, now: Millis, out: Out, reason: DisconnectReason): void {
  setState(s, c, 'Unknown', now, out);
  s.conns.delete(c.id);
  if (s.byPeer.get(c.peer) === c.id) s.byPeer.delete(c.peer);
  if (c.acquirer !== undefined) answer(s, c.acquirer, { kind: 'disconnected', conn: c.id, reason }, out);
  c.acquirer = undefined;
  const waiters = c.waiters;
  c.waiters = [];
  for (const req of waiters) {
    // those blocked on a terminating entry start afresh (§8.4); others are told it is gone
    if (reason === 'ConnectionTerminating') {
      const r = acquireOutbound(s, now, c.peer, out, req);
      if (r.kind !== 'pending') answer(s, req, r, out);
    } else {
      answer(s, req, { kind: 'disconnected', conn: c.id, reason }, out);
    }
  }
}

/** Enters TIME_WAIT: sockets reset now, the entry held for `timeWaitTimeout` (§8.6). */
function startTerminating(s: CmState, c: Conn, now: Millis, out: Out): void {
  setState(s, c, 'Terminating', now, out);
  const hadSockets = c.outboundSock !== undefined || c.inboundSock !== undefined;
  closeSockets(c, out);
  if (hadSockets) out.actions.push({ type: 'connectionClosed', conn: c.id, peer: c.peer });
  arm(c, 'timeWait', now + s.config.timeWaitTimeout, out);
  if (c.acquirer !== undefined)
    answer(s, c.acquirer, { kind: 'disconnected', conn: c.id, reason: 'HandshakeFailed' }, out);
  c.acquirer = undefined;
}

function newConn(s: CmState, peer: Peer, st: CmSt, now: Millis, out: Out): Conn {
  const c: Conn = {
    id: s.nextConn++,
    peer,
    st: 'Unknown',
    since: now,
    outboundSock: undefined,
    inboundSock: undefined,
    timer: undefined,
    acquirer: undefined,
    waiters: [],
    dataFlow: undefined,
  };
  s.conns.set(c.id, c);
  s.byPeer.set(peer, c.id);
  setState(s, c, st, now, out);
  return c;
}

/**
 * Makes room for one more inbound-counted connection (§8.5): if the inbound count plus the
 * transitioning connection exceeds the hard limit, prune that many among the inbound-counted
 * connections and the transitioning one (seen in its next state), purely inbound ones first, at
 * random among equals. Returns whether the transitioning connection itself was pruned.
 */
function pruneFor(s: CmState, c: Conn, next: CmSt, now: Millis, out: Out): boolean {
  const n = s.counters.inboundConns + 1 - s.config.hardLimit;
  if (n <= 0) return false;
  const candidates: Array<{ conn: Conn; upstream: boolean; score: number }> = [];
  for (const other of s.conns.values()) {
    if (other !== c && isInboundCounted(other.st))
      candidates.push({ conn: other, upstream: isUpstream(other.st), score: s.rng.nextU32() });
  }
  candidates.push({ conn: c, upstream: isUpstream(next), score: s.rng.nextU32() });
  candidates.sort((a, b) => Number(a.upstream) - Number(b.upstream) || a.score - b.score || a.conn.id - b.conn.id);
  const picked = candidates.slice(0, n).map((x) => x.conn);
  out.trace.push({
    type: 'prune',
    pruned: picked.map((x) => x.id),
    candidates: candidates.map((x) => x.conn.id),
    count: n,
    at: now,
  });
  let self = false;
  for (const p of picked) {
    if (p === c) self = true;
    else terminate(s, p, now, out, 'Pruned');
  }
  return self;
}

// ---------------------------------------------------------------------------------------------
// Methods (§8.4)

export type AcquireAnswer = AcquireResult | { kind: 'pending'; req: number };

/**
 * `acquireOutboundConnection`: a new reservation and a dial, an existing inbound duplex connection
 * reused, an error, or a wait (for an inbound handshake or the end of TIME_WAIT), answered later
 * by an `acquireDone` action with the returned request id.
 */
export function acquireOutbound(s: CmState, now: Millis, peer: Peer, out: Out, reuseReq?: number): AcquireAnswer {
  const id = s.byPeer.get(peer);
  const c = id === undefined ? undefined : s.conns.get(id);
  const refuse = (error: AcquireError): AcquireAnswer => {
    out.trace.push({ type: 'acquireRefused', peer, error, at: now });
    return { kind: 'error', error };
  };
  const wait = (on: Conn): AcquireAnswer => {
    const req = reuseReq ?? s.nextReq++;
    s.pending.set(req, peer);
    on.waiters.push(req);
    return { kind: 'pending', req };
  };
  if (c === undefined) {
    const req = reuseReq ?? s.nextReq++;
    s.pending.set(req, peer);
    const r = newConn(s, peer, 'ReservedOutbound', now, out);
    r.acquirer = req;
    r.outboundSock = `o${s.nextSock++}`;
    out.actions.push({ type: 'connect', conn: r.id, peer, sock: r.outboundSock, bindLocal: s.config.listenAddress });
    return { kind: 'pending', req };
  }
  // our own dial is still in flight on this entry (a self connection, or a reservation an accept
  // overwrote): it claims the outbound side
  if (c.acquirer !== undefined) return refuse('ConnectionExists');
  switch (c.st) {
    case 'ReservedOutbound':
    case 'UnnegotiatedOut':
    case 'OutboundUni':
    case 'OutboundDupTicking':
    case 'OutboundDupExpired':
    case 'Duplex':
      return refuse('ConnectionExists');
    case 'OutboundIdleUni':
    case 'OutboundIdleDup':
      return refuse('ForbiddenOperation');
    case 'UnnegotiatedIn':
      return wait(c);
    case 'InboundIdleUni':
    case 'InboundUni':
      return refuse('ForbiddenConnection');
    case 'InboundIdleDup':
      // Awake^Dup_Local; the remote's idle timer (in the inbound governor) keeps running
      setState(s, c, 'OutboundDupTicking', now, out);
      return { kind: 'connected', conn: c.id, dataFlow: 'duplex' };
    case 'InboundDup':
      // PromotedToWarm^Dup_Local
      setState(s, c, 'Duplex', now, out);
      return { kind: 'connected', conn: c.id, dataFlow: 'duplex' };
    case 'Terminating':
    case 'Terminated':
    case 'Unknown':
      return wait(c);
  }
}

/** The dial of `conn` succeeded (`connect` returned). */
export function connected(s: CmState, now: Millis, conn: ConnId, sock: SocketId, out: Out): void {
  const c = s.conns.get(conn);
  if (c === undefined || c.outboundSock !== sock) {
    // the entry is gone (pruned, terminated): drop the socket
    out.actions.push({ type: 'closeSocket', conn: undefined, sock, reset: true });
    return;
  }
  if (c.st === 'ReservedOutbound') {
    setState(s, c, 'UnnegotiatedOut', now, out);
    arm(c, 'handshake', now + s.config.handshakeTimeout, out);
  } else if (c.st === 'UnnegotiatedIn') {
    // SelfConn^-1: our own dial was accepted first (or an inbound overwrote the reservation)
    setState(s, c, 'UnnegotiatedOut', now, out);
  } else {
    out.trace.push({ type: 'unexpected', conn, method: 'connected', st: c.st, at: now });
  }
  out.actions.push({ type: 'startHandshake', conn, sock, provenance: 'outbound' });
}

/** The dial of `conn` failed. */
export function connectFailed(s: CmState, now: Millis, conn: ConnId, sock: SocketId, out: Out): void {
  const c = s.conns.get(conn);
  if (c === undefined || c.outboundSock !== sock) return;
  c.outboundSock = undefined;
  if (c.st === 'ReservedOutbound') {
    terminate(s, c, now, out, 'ConnectFailed');
    return;
  }
  // the reservation was overwritten by an inbound connection: that one lives on
  if (c.acquirer !== undefined) answer(s, c.acquirer, { kind: 'disconnected', conn, reason: 'ConnectFailed' }, out);
  c.acquirer = undefined;
}

export type IncludeResult = { kind: 'included'; conn: ConnId } | { kind: 'refused' };

/**
 * `includeInboundConnection`: the server hands over an accepted socket. The hard limit is
 * re-checked here (the accept loop cannot guarantee it); above it the socket is reset.
 */
export function includeInbound(s: CmState, now: Millis, peer: Peer, sock: SocketId, out: Out): IncludeResult {
  if (s.counters.inboundConns + 1 > s.config.hardLimit) {
    out.trace.push({ type: 'inboundRefused', peer, at: now });
    out.actions.push({ type: 'closeSocket', conn: undefined, sock, reset: true });
    return { kind: 'refused' };
  }
  const id = s.byPeer.get(peer);
  const old = id === undefined ? undefined : s.conns.get(id);
  let c: Conn;
  if (old === undefined || old.st === 'Terminating' || old.st === 'Terminated') {
    // Accepted (a terminating predecessor finishes its TIME_WAIT under its own id)
    c = newConn(s, peer, 'UnnegotiatedIn', now, out);
    arm(c, 'handshake', now + s.config.handshakeTimeout, out);
  } else if (old.st === 'ReservedOutbound' || old.st === 'UnnegotiatedOut') {
    // Overwritten (near-simultaneous open) or SelfConn (we dialled our own listening address)
    c = old;
    if (c.st === 'ReservedOutbound') arm(c, 'handshake', now + s.config.handshakeTimeout, out);
    setState(s, c, 'UnnegotiatedIn', now, out);
  } else {
    // impossible by TCP (one connection per 4-tuple): keep the live entry, drop the socket
    out.trace.push({ type: 'unexpected', conn: old.id, method: 'includeInbound', st: old.st, at: now });
    out.actions.push({ type: 'closeSocket', conn: undefined, sock, reset: true });
    return { kind: 'refused' };
  }
  c.inboundSock = sock;
  out.actions.push({ type: 'startHandshake', conn: c.id, sock, provenance: 'inbound' });
  return { kind: 'included', conn: c.id };
}

/** The handshake on `sock` of `conn` succeeded with `dataFlow`. */
export function handshakeDone(
  s: CmState,
  now: Millis,
  conn: ConnId,
  sock: SocketId,
  dataFlow: DataFlow,
  out: Out,
): void {
  const c = s.conns.get(conn);
  if (c === undefined) return;
  if (sock === c.outboundSock) outboundNegotiated(s, now, c, dataFlow, out);
  else if (sock === c.inboundSock) inboundNegotiated(s, now, c, dataFlow, out);
}

function outboundNegotiated(s: CmState, now: Millis, c: Conn, df: DataFlow, out: Out): void {
  const req = c.acquirer;
  c.acquirer = undefined;
  const ok = () => {
    if (req !== undefined) answer(s, req, { kind: 'connected', conn: c.id, dataFlow: df }, out);
  };
  switch (c.st) {
    case 'UnnegotiatedIn':
      // our dial's handshake ended before its accept side was seen (self connection): SelfConn^-1 first
      setState(s, c, 'UnnegotiatedOut', now, out);
      c.acquirer = req;
      outboundNegotiated(s, now, c, df, out);
      return;
    case 'UnnegotiatedOut':
      disarm(c, out);
      c.dataFlow = df;
      setState(s, c, df === 'duplex' ? 'OutboundDupTicking' : 'OutboundUni', now, out);
      // the inbound governor watches outbound duplex connections too (it ignores a repeated announcement)
      if (df === 'duplex')
        out.actions.push({ type: 'newConnection', conn: c.id, peer: c.peer, provenance: 'outbound', dataFlow: df });
      ok();
      return;
    case 'InboundIdleUni':
      // SelfConn^-1 after the inbound side negotiated
      setState(s, c, 'OutboundUni', now, out);
      ok();
      return;
    case 'InboundIdleDup':
      setState(s, c, 'OutboundDupTicking', now, out);
      ok();
      return;
    case 'Terminating':
    case 'Terminated':
    case 'Unknown':
      if (req !== undefined) answer(s, req, { kind: 'disconnected', conn: c.id, reason: 'ConnectionTerminating' }, out);
      return;
    default:
      out.trace.push({ type: 'unexpected', conn: c.id, method: 'handshakeDone(outbound)', st: c.st, at: now });
      if (req !== undefined) answer(s, req, { kind: 'error', error: 'ForbiddenOperation' }, out);
  }
}

function inboundNegotiated(s: CmState, now: Millis, c: Conn, df: DataFlow, out: Out): void {
  if (c.st !== 'UnnegotiatedIn' && c.st !== 'UnnegotiatedOut') return; // self connection: the outbound side won
  const provenance: Provenance = c.st === 'UnnegotiatedIn' ? 'inbound' : 'outbound';
  disarm(c, out);
  c.dataFlow = df;
  const next = df === 'duplex' ? 'InboundIdleDup' : 'InboundIdleUni';
  // A self connection whose dial side was seen last (UnnegotiatedOut) becomes inbound-counted here.
  // The reference does not re-check the hard limit on this path; we do, so the limit always holds.
  if (c.st === 'UnnegotiatedOut' && pruneFor(s, c, next, now, out)) {
    terminate(s, c, now, out, 'Pruned');
    return;
  }
  setState(s, c, next, now, out);
  out.actions.push({ type: 'newConnection', conn: c.id, peer: c.peer, provenance, dataFlow: df });
  // acquirers that waited for this handshake: the first reuses a duplex connection
  const waiters = c.waiters;
  c.waiters = [];
  for (const req of waiters) {
    const r = acquireOutbound(s, now, c.peer, out, req);
    if (r.kind !== 'pending') answer(s, req, r, out);
  }
}

export type HandshakeFailure = 'refused' | 'violation' | 'timeout';

/**
 * The handshake on `sock` failed: a refusal (version mismatch, the reference's HandshakeFailure)
 * goes through TIME_WAIT, a protocol violation or a timeout ends the connection at once.
 */
export function handshakeFailed(
  s: CmState,
  now: Millis,
  conn: ConnId,
  sock: SocketId,
  failure: HandshakeFailure,
  out: Out,
): void {
  const c = s.conns.get(conn);
  if (c === undefined || (sock !== c.outboundSock && sock !== c.inboundSock)) return;
  if (c.st === 'Terminating') return;
  if (failure === 'refused' && (c.st === 'UnnegotiatedIn' || c.st === 'UnnegotiatedOut')) {
    disarm(c, out);
    startTerminating(s, c, now, out);
  } else {
    terminate(s, c, now, out, failure === 'timeout' ? 'HandshakeTimeout' : 'HandshakeFailed');
  }
}

/**
 * The connection's mux or socket ended (protocol error, remote close or reset): any state ->
 * Terminated at once, except TIME_WAIT, which runs to its end.
 */
export function connectionError(s: CmState, now: Millis, conn: ConnId, out: Out): void {
  const c = s.conns.get(conn);
  if (c === undefined || c.st === 'Terminating') return;
  terminate(s, c, now, out, 'ConnectionError');
}

export type ReleaseOutboundResult = 'ok' | 'noop' | 'unsupported';

/** `releaseOutboundConnection`: the outbound side no longer uses the connection. */
export function releaseOutbound(s: CmState, now: Millis, conn: ConnId, out: Out): ReleaseOutboundResult {
  const c = s.conns.get(conn);
  if (c === undefined) return 'noop';
  switch (c.st) {
    case 'OutboundUni':
      setState(s, c, 'OutboundIdleUni', now, out);
      arm(c, 'outboundIdle', now + s.config.outboundIdleTimeout, out);
      return 'ok';
    case 'OutboundDupExpired':
      setState(s, c, 'OutboundIdleDup', now, out);
      arm(c, 'outboundIdle', now + s.config.outboundIdleTimeout, out);
      return 'ok';
    case 'OutboundDupTicking':
      // the remote's idle timer still runs: the connection becomes inbound-counted (may prune)
      if (pruneFor(s, c, 'InboundIdleDup', now, out)) {
        terminate(s, c, now, out, 'Pruned');
        return 'ok';
      }
      setState(s, c, 'InboundIdleDup', now, out);
      return 'ok';
    case 'Duplex':
      setState(s, c, 'InboundDup', now, out);
      return 'ok';
    case 'ReservedOutbound':
    case 'UnnegotiatedIn':
    case 'UnnegotiatedOut':
      out.trace.push({ type: 'unexpected', conn, method: 'releaseOutbound', st: c.st, at: now });
      return 'unsupported';
    default:
      return 'noop';
  }
}

export type RemoteOpResult = 'ok' | 'unsupported' | 'terminated';

/** `promotedToWarmRemote`: the inbound governor saw the remote start using the connection. */
export function promotedToWarmRemote(s: CmState, now: Millis, conn: ConnId, out: Out): RemoteOpResult {
  const c = s.conns.get(conn);
  if (c === undefined) return 'terminated';
  switch (c.st) {
    case 'InboundIdleUni':
      setState(s, c, 'InboundUni', now, out);
      return 'ok';
    case 'InboundIdleDup':
      setState(s, c, 'InboundDup', now, out);
      return 'ok';
    case 'OutboundIdleDup':
      if (pruneFor(s, c, 'InboundDup', now, out)) {
        terminate(s, c, now, out, 'Pruned');
        return 'terminated';
      }
      disarm(c, out);
      setState(s, c, 'InboundDup', now, out);
      return 'ok';
    case 'OutboundDupTicking':
    case 'OutboundDupExpired':
      if (pruneFor(s, c, 'Duplex', now, out)) {
        terminate(s, c, now, out, 'Pruned');
        return 'terminated';
      }
      setState(s, c, 'Duplex', now, out);
      return 'ok';
    case 'Terminating':
    case 'Terminated':
      return 'terminated';
    default:
      out.trace.push({ type: 'unexpected', conn, method: 'promotedToWarmRemote', st: c.st, at: now });
      return 'unsupported';
  }
}

/** `demotedToColdRemote`: all the remote's responders went idle. */
export function demotedToColdRemote(s: CmState, now: Millis, conn: ConnId, out: Out): RemoteOpResult {
  const c = s.conns.get(conn);
  if (c === undefined) return 'terminated';
  switch (c.st) {
    case 'InboundUni':
      setState(s, c, 'InboundIdleUni', now, out);
      return 'ok';
    case 'InboundDup':
      setState(s, c, 'InboundIdleDup', now, out);
      return 'ok';
    case 'Duplex':
      setState(s, c, 'OutboundDupTicking', now, out);
      return 'ok';
    // identities the reference allows (the state keeps its meaning)
    case 'OutboundIdleUni':
    case 'OutboundIdleDup':
    case 'OutboundDupTicking':
    case 'OutboundDupExpired':
    case 'InboundIdleDup':
      setState(s, c, c.st, now, out);
      return 'ok';
    case 'InboundIdleUni':
      return 'ok';
    case 'Terminating':
    case 'Terminated':
      return 'terminated';
    default:
      out.trace.push({ type: 'unexpected', conn, method: 'demotedToColdRemote', st: c.st, at: now });
      return 'unsupported';
  }
}

export type ReleaseInboundResult = 'commit' | 'keep' | 'unsupported';

/**
 * `releaseInboundConnection`, called when the inbound governor's idle timer fired: `commit` = the
 * connection closes and the governor forgets it; `keep` = our outbound side still uses it (the
 * governor moves it to RemoteCold).
 */
export function releaseInbound(s: CmState, now: Millis, conn: ConnId, out: Out): ReleaseInboundResult {
  const c = s.conns.get(conn);
  if (c === undefined) return 'commit';
  switch (c.st) {
    case 'OutboundDupTicking':
      // TimeoutExpired
      setState(s, c, 'OutboundDupExpired', now, out);
      return 'keep';
    case 'OutboundDupExpired':
      out.trace.push({ type: 'unexpected', conn, method: 'releaseInbound', st: c.st, at: now });
      return 'keep';
    case 'OutboundIdleUni':
    case 'OutboundIdleDup':
      out.trace.push({ type: 'unexpected', conn, method: 'releaseInbound', st: c.st, at: now });
      return 'commit';
    case 'InboundIdleUni':
    case 'InboundIdleDup':
      // Commit^*_Remote
      startTerminating(s, c, now, out);
      return 'commit';
    case 'InboundUni':
    case 'InboundDup':
      out.trace.push({ type: 'unexpected', conn, method: 'releaseInbound', st: c.st, at: now });
      startTerminating(s, c, now, out);
      return 'unsupported';
    case 'Duplex':
      out.trace.push({ type: 'unexpected', conn, method: 'releaseInbound', st: c.st, at: now });
      setState(s, c, 'OutboundDupTicking', now, out);
      return 'unsupported';
    case 'Terminating':
      return 'commit';
    default:
      return 'unsupported';
  }
}

/** A core timer fired. Stale timers (cancelled, or re-armed for another time) are ignored. */
export function timerFired(s: CmState, now: Millis, conn: ConnId, timer: CmTimer, out: Out): void {
  const c = s.conns.get(conn);
  if (c === undefined || c.timer === undefined || c.timer.kind !== timer || c.timer.at > now) return;
  c.timer = undefined;
  switch (timer) {
    case 'handshake':
      if (c.st === 'UnnegotiatedIn' || c.st === 'UnnegotiatedOut') terminate(s, c, now, out, 'HandshakeTimeout');
      return;
    case 'outboundIdle':
      // Commit^*_Local, unless the remote woke the connection meanwhile
      if (c.st === 'OutboundIdleUni' || c.st === 'OutboundIdleDup') startTerminating(s, c, now, out);
      return;
    case 'timeWait':
      if (c.st === 'Terminating') {
        setState(s, c, 'Terminated', now, out);
        remove(s, c, now, out, 'ConnectionTerminating');
      }
      return;
  }
}

/**
 * `waitForOutboundDemotion` as a query: whether the outbound side still holds the connection (the
 * governor keeps the peer cooling until this is false).
 */
export function holdsOutbound(s: CmState, conn: ConnId): boolean {
  const st = s.conns.get(conn)?.st;
  return (
    st === 'ReservedOutbound' ||
    st === 'UnnegotiatedOut' ||
    st === 'OutboundUni' ||
    st === 'OutboundDupTicking' ||
    st === 'OutboundDupExpired' ||
    st === 'OutboundIdleUni' ||
    st === 'OutboundIdleDup' ||
    st === 'Duplex' ||
    st === 'Terminating'
  );
}

/** The state of the current entry for `peer` (`Unknown` when none). */
export function peerState(s: CmState, peer: Peer): CmSt {
  const id = s.byPeer.get(peer);
  return (id === undefined ? undefined : s.conns.get(id)?.st) ?? 'Unknown';
}
