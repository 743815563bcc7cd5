/**
 * The connection manager's shell (governor.md §8, issue 12): owns the sockets of every node-to-node
 * connection, feeds what happens to them to the composed pure cores (connection manager + inbound
 * governor, `nodeStep` in node-core.ts) and carries out what the cores decide: dial, run the
 * handshake, close (FIN for an orderly close into TIME_WAIT, RST for an aborting one), and the
 * cores' timers (handshake, outbound idle, time-wait, inbound idle, maturation wake-up) on an
 * injected `Clock` (the system clock live, the `Scheduler` in virtual time).
 *
 * Outbound side (the peer state actions): `acquireOutbound(peer)` answers with a negotiated
 * `Connection` (a new dial, or an inbound duplex connection reused: Awake^Dup_Local /
 * PromotedToWarm^Dup_Local), a disconnection with its cause, or the core's refusal
 * (`ConnectionExists`, `ForbiddenOperation`, `ForbiddenConnection`); `releaseOutbound(conn)` gives
 * it back; `waitForOutboundDemotion(conn)` resolves once the outbound side no longer holds it.
 * Inbound side (the server): `includeInbound(bearer)` hands over an accepted socket (the hard
 * limit is re-checked by the core; above it the socket is reset).
 *
 * Every state change of the cores is a typed trace event (`trace`), and so is every socket-level
 * step the shell takes; `counters()` gives the node's `connectionManager.*` / `inboundGovernor.*`
 * figures under the names cardano-node exports.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { formatEndpoint, parseEndpoint } from '../../lib/address.js';
import { type Clock, type Millis, systemClock, type Timer } from '../../lib/clock.js';
import type { RefuseReason, VersionData } from '../../net/codec/handshake.js';
import type { PeerAddress } from '../../net/codec/peer-sharing.js';
import { type Connection, openConnection } from '../../net/connection.js';
import { NetError } from '../../net/errors.js';
import { Mux } from '../../net/mux/mux.js';
import type { Responders } from '../../net/protocols/types.js';
import type { Bearer, Endpoint } from '../../net/transport/bearer.js';
import { reusePortSupported, tcpConnectFrom } from '../../net/transport/reuse-port.js';
import { tcpConnect } from '../../net/transport/tcp.js';
import { DEFAULT_IG_CONFIG, type IgConfig, type IgTrace } from '../inbound-governor/core.js';
import { matureDuplexPeers, type ResponderActivity, remoteStates, watchResponders } from '../inbound-governor/shell.js';
import { initialNodeState, type NodeAction, type NodeEvent, type NodeState, nodeStep } from '../node-core.js';
import type { Rng } from '../rng.js';
import type { CmSt, RemoteSt } from '../transitions.js';
import {
  type AcquireError,
  type AcquireResult,
  type CmConfig,
  type CmTrace,
  type ConnId,
  type DataFlow,
  type DisconnectReason,
  defaultCmConfig,
  type HandshakeFailure,
  holdsOutbound,
  type IncludeResult,
  type Peer,
  type Provenance,
  type ReleaseOutboundResult,
  type SocketId,
} from './core.js';

/** How the shell opens an outbound socket. TCP by default; tests and the simulator pass their own. */
export interface Dialer {
  /**
   * Connects to `peer`; `local` is the listening address to bind to (the core asks for it when the
   * node runs as initiator and responder). A dialer that cannot bind dials from an ephemeral port.
   */
  dial(
    peer: Endpoint,
    local: Endpoint | undefined,
    signal: AbortSignal,
  ): Promise<{ bearer: Bearer; connectMs: Millis }>;
}

/** The node's connect timeout for an outbound dial. */
export const CONNECT_TIMEOUT: Millis = 10_000;

/**
 * TCP: from the listening address when the core asks for it and SO_REUSEPORT is available
 * (src/net/transport/reuse-port.ts; the listener must have been made with `listenReusePort` too),
 * and when the address families match; otherwise from an ephemeral port (the remote then sees
 * that port as our address and cannot reuse the connection for its own outbound need).
 */
export function tcpDialer(clock: Clock = systemClock, timeoutMs: Millis = CONNECT_TIMEOUT): Dialer {
  const reuse = reusePortSupported().supported;
  return {
    dial: (peer, local, signal) =>
      reuse && local !== undefined && isIPv6(local.host) === isIPv6(peer.host)
        ? tcpConnectFrom({ local, host: peer.host, port: peer.port, timeoutMs, signal, clock })
        : tcpConnect({ host: peer.host, port: peer.port, timeoutMs, signal, clock }),
  };
}

/** How long an orderly close (into TIME_WAIT) waits for the peer's FIN before releasing the socket. */
export const ORDERLY_CLOSE_TIMEOUT: Millis = 2_000;

export interface HandshakeSettings {
  versions: readonly number[];
  /** Our version data (magic, diffusion mode, peer sharing). */
  data: VersionData;
  /** Responders started on demand on inbound and duplex connections. */
  responders?: Responders;
  /** Per-state handshake limit (default the node's 10 s). */
  timeoutMs?: Millis;
}

export interface ConnectionManagerOptions {
  handshake: HandshakeSettings;
  clock?: Clock;
  /** Pruning's randomness (default: the system's random source). */
  rng?: Rng;
  dialer?: Dialer;
  /**
   * The listening address outbound sockets bind to when the node runs as initiator and responder
   * (so the remote can reuse the connection); undefined = do not bind.
   */
  listenAddress?: Endpoint;
  /** AcceptedConnectionsLimit's hard limit (default 512). */
  hardLimit?: number;
  /** The node's ProtocolIdleTimeout: outbound idle before the reset and inbound idle (default 5 s; Infinity = never). */
  protocolIdleTimeout?: Millis;
  /** The node's TimeWaitTimeout (default 60 s). */
  timeWaitTimeout?: Millis;
  /** The handshake's state timer in the core (default 10 s). */
  handshakeTimeout?: Millis;
  /** The inbound governor's maturation delay and wake-up (defaults 15 min, 31.4 s). */
  matureDelay?: Millis;
  inactionTimeout?: Millis;
}

/** The answer to `acquireOutbound`. */
export type OutboundAcquire =
  | {
      kind: 'connected';
      conn: ConnId;
      connection: Connection;
      dataFlow: DataFlow;
      /** True when an inbound duplex connection was reused (no new socket). */
      reused: boolean;
    }
  | { kind: 'disconnected'; conn: ConnId | undefined; reason: DisconnectReason; cause: Error | undefined }
  | { kind: 'error'; error: AcquireError };

/** What the handshake on one socket came to (for logs: a refusal says why). */
export interface HandshakeOutcome {
  sock: SocketId;
  conn: ConnId;
  peer: Peer;
  provenance: Provenance;
  outcome: 'accepted' | 'refused' | 'query' | 'failed';
  version: number | undefined;
  dataFlow: DataFlow | undefined;
  /** Our refusal (inbound): what we told the peer. */
  refusal: RefuseReason | undefined;
  /** The failure (a timeout, a protocol violation, the peer's refusal of our proposal). */
  error: NetError | undefined;
  handshakeMs: Millis | undefined;
}

/** Socket-level steps of the shell, traced like the cores' state changes. */
export type SocketTrace =
  | { type: 'dial'; conn: ConnId; sock: SocketId; peer: Peer; bindLocal: string | undefined }
  | { type: 'dialFailed'; conn: ConnId; sock: SocketId; peer: Peer; code: string }
  | { type: 'handshake'; outcome: HandshakeOutcome }
  | { type: 'close'; conn: ConnId | undefined; sock: SocketId; how: 'reset' | 'orderly' }
  | { type: 'peerClosed'; conn: ConnId | undefined; sock: SocketId; code: string | undefined };

export type NodeTraceEvent =
  | { source: 'connectionManager'; at: Millis; event: CmTrace }
  | { source: 'inboundGovernor'; at: Millis; event: IgTrace }
  | { source: 'socket'; at: Millis; event: SocketTrace };

/** The counters under the names cardano-node exports (docs/ARCHITECTURE.md, src/node). */
export interface NodeCounters {
  'connectionManager.fullDuplexConns': number;
  'connectionManager.duplexConns': number;
  'connectionManager.unidirectionalConns': number;
  'connectionManager.inboundConns': number;
  'connectionManager.outboundConns': number;
  'inboundGovernor.idle': number;
  'inboundGovernor.cold': number;
  'inboundGovernor.warm': number;
  'inboundGovernor.hot': number;
}

export function nodeCounters(s: NodeState): NodeCounters {
  const c = s.cm.counters;
  const g = s.ig.counters;
  return {
    'connectionManager.fullDuplexConns': c.fullDuplexConns,
    'connectionManager.duplexConns': c.duplexConns,
    'connectionManager.unidirectionalConns': c.unidirectionalConns,
    'connectionManager.inboundConns': c.inboundConns,
    'connectionManager.outboundConns': c.outboundConns,
    'inboundGovernor.idle': g.idle,
    'inboundGovernor.cold': g.cold,
    'inboundGovernor.warm': g.warm,
    'inboundGovernor.hot': g.hot,
  };
}

export interface ConnectionManagerEvents {
  trace: [event: NodeTraceEvent];
  handshake: [outcome: HandshakeOutcome];
  /** A negotiated connection (inbound or outbound) and its connection object. */
  negotiated: [conn: ConnId, connection: Connection, provenance: Provenance];
  /** A socket the manager held is gone (closed by us or by the peer). */
  socketClosed: [sock: SocketId, conn: ConnId | undefined, peer: Peer, error: NetError | undefined];
  /** The inbound count changed (the accept loops wait on it at the hard limit). */
  inbound: [count: number];
}

interface Sock {
  readonly id: SocketId;
  readonly peer: Peer;
  readonly endpoint: Endpoint | undefined;
  conn: ConnId | undefined;
  readonly mux: Mux;
  readonly connectMs: Millis | undefined;
  connection: Connection | undefined;
  handshaking: boolean;
  /** Our handshake refusal or query answer is closing the socket with a FIN already. */
  orderly: boolean;
  closedByUs: boolean;
  /** Why we closed it, when the core's decision has a name (the handshake timer, pruning). */
  closedWhy: NetError | undefined;
  detach: (() => void) | undefined;
}

function systemRng(): Rng {
  return { nextU32: () => randomBytes(4).readUInt32LE(0) };
}

function handshakeFailureOf(e: unknown): HandshakeFailure {
  const code = e instanceof NetError ? e.code : '';
  if (code === 'HANDSHAKE_TIMEOUT') return 'timeout';
  if (code.startsWith('HANDSHAKE_REFUSED') || code === 'HANDSHAKE_QUERY_REPLY') return 'refused';
  return 'violation';
}

export class ConnectionManager extends EventEmitter<ConnectionManagerEvents> {
  readonly clock: Clock;
  readonly state: NodeState;
  private readonly dialer: Dialer;
  private readonly handshakeSettings: HandshakeSettings;
  private readonly socks = new Map<SocketId, Sock>();
  private readonly timers = new Map<string, Timer>();
  private wakeupTimer: Timer | undefined;
  private readonly waiting = new Map<number, (r: OutboundAcquire) => void>();
  private readonly causes = new Map<ConnId, Error>();
  private readonly demotionWaiters = new Map<ConnId, Array<() => void>>();
  private readonly stopping = new AbortController();
  private readonly pendingWork = new Set<Promise<unknown>>();
  private nextInbound = 1;
  private lastInbound = 0;
  private closed = false;

  constructor(o: ConnectionManagerOptions) {
    super();
    this.clock = o.clock ?? systemClock;
    this.dialer = o.dialer ?? tcpDialer(this.clock);
    this.handshakeSettings = o.handshake;
    const idle = o.protocolIdleTimeout ?? DEFAULT_IG_CONFIG.idleTimeout;
    const cmConfig: CmConfig = {
      ...defaultCmConfig(o.listenAddress ? formatEndpoint(o.listenAddress) : undefined, o.hardLimit ?? 512),
      outboundIdleTimeout: idle,
      ...(o.timeWaitTimeout === undefined ? {} : { timeWaitTimeout: o.timeWaitTimeout }),
      ...(o.handshakeTimeout === undefined ? {} : { handshakeTimeout: o.handshakeTimeout }),
    };
    const igConfig: IgConfig = {
      idleTimeout: idle,
      matureDelay: o.matureDelay ?? DEFAULT_IG_CONFIG.matureDelay,
      inactionTimeout: o.inactionTimeout ?? DEFAULT_IG_CONFIG.inactionTimeout,
    };
    this.state = initialNodeState(cmConfig, o.rng ?? systemRng(), igConfig);
  }

  // --- outbound side ----------------------------------------------------------------------------

  /**
   * `acquireOutboundConnection`: a negotiated connection to `peer` (dialled, or an inbound duplex
   * connection reused), a disconnection with its cause, or the core's refusal. An abort before the
   * answer rejects with the signal's reason; a connection negotiated after it is released at once.
   */
  acquireOutbound(peer: Endpoint | Peer, signal?: AbortSignal): Promise<OutboundAcquire> {
    if (this.closed) return Promise.reject(new NetError('NET_ABORTED', 'the connection manager is closed'));
    const key = typeof peer === 'string' ? formatEndpoint(parseEndpoint(peer)) : formatEndpoint(peer);
    const r = this.step({ type: 'acquireOutbound', peer: key }).result;
    if (r === undefined || typeof r !== 'object' || !('kind' in r)) throw new Error('acquireOutbound: no answer');
    if (r.kind === 'pending') {
      return new Promise<OutboundAcquire>((resolve, reject) => {
        const onAbort = (): void => {
          // the core cannot withdraw a dial: whatever it yields is released when it comes
          this.waiting.set(r.req, (late) => {
            if (late.kind === 'connected') this.releaseOutbound(late.conn);
          });
          reject(signal?.reason instanceof Error ? signal.reason : new NetError('NET_ABORTED', 'acquire aborted'));
        };
        if (signal?.aborted) {
          onAbort();
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.set(r.req, (answer) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(answer);
        });
      });
    }
    if (r.kind === 'included' || r.kind === 'refused') throw new Error('acquireOutbound: unexpected answer');
    return Promise.resolve(this.outboundAnswer(r));
  }

  /** `releaseOutboundConnection`: the outbound side no longer uses `conn`. */
  releaseOutbound(conn: ConnId): ReleaseOutboundResult {
    const r = this.step({ type: 'releaseOutbound', conn }).result;
    return r === 'ok' || r === 'noop' || r === 'unsupported' ? r : 'noop';
  }

  /** Resolves once the outbound side no longer holds `conn` (`waitForOutboundDemotion`). */
  waitForOutboundDemotion(conn: ConnId): Promise<void> {
    if (!holdsOutbound(this.state.cm, conn)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.demotionWaiters.get(conn) ?? [];
      list.push(resolve);
      this.demotionWaiters.set(conn, list);
    });
  }

  /** The negotiated connection object of `conn`, if it has one now. */
  connection(conn: ConnId): Connection | undefined {
    const c = this.state.cm.conns.get(conn);
    if (c === undefined) return undefined;
    const sock = (c.outboundSock && this.socks.get(c.outboundSock)) || (c.inboundSock && this.socks.get(c.inboundSock));
    return sock ? sock.connection : undefined;
  }

  /** The core's state of `conn` (`Unknown` once it is gone). */
  connState(conn: ConnId): CmSt {
    return this.state.cm.conns.get(conn)?.st ?? 'Unknown';
  }

  // --- inbound side -----------------------------------------------------------------------------

  /** The server hands over an accepted socket; the core re-checks the hard limit. */
  includeInbound(bearer: Bearer): IncludeResult {
    if (this.closed) {
      bearer.reset();
      return { kind: 'refused' };
    }
    const sock = this.register(`i${this.nextInbound++}`, bearer, undefined, undefined);
    const r = this.step({ type: 'accepted', peer: sock.peer, sock: sock.id }).result;
    if (r && typeof r === 'object' && 'kind' in r && r.kind === 'included') {
      sock.conn = r.conn;
      return r;
    }
    return { kind: 'refused' };
  }

  /**
   * Sets the address outbound sockets are bound to (known once the server listens, e.g. on port
   * 0); undefined = dial from ephemeral ports.
   */
  setListenAddress(address: Endpoint | undefined): void {
    this.state.cm.config.listenAddress = address ? formatEndpoint(address) : undefined;
  }

  /** The inbound count the server's rate limiting reads. */
  get inboundConns(): number {
    return this.state.cm.counters.inboundConns;
  }

  counters(): NodeCounters {
    return nodeCounters(this.state);
  }

  /** Duplex peers connected for 15 min or more: what this node may offer to peer sharing. */
  matureDuplexPeers(): PeerAddress[] {
    return matureDuplexPeers(this.state.ig);
  }

  /** The inbound governor's remote state of every connection it watches. */
  remoteStates(): Map<ConnId, RemoteSt> {
    return remoteStates(this.state.ig);
  }

  /** Sockets held now (negotiating or negotiated; one closing orderly is no longer counted). */
  get sockets(): number {
    return this.socks.size;
  }

  /**
   * Stops: every socket is closed (FIN, released after `timeoutMs`), the cores are told each
   * connection ended, timers are cancelled, dials in flight are abandoned.
   */
  async close(timeoutMs: Millis = 500): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort();
    const closing: Promise<void>[] = [];
    for (const s of [...this.socks.values()]) {
      s.closedByUs = true;
      s.detach?.();
      closing.push(s.connection ? s.connection.close(timeoutMs) : s.mux.close(timeoutMs));
    }
    this.socks.clear();
    for (const c of [...this.state.cm.conns.values()]) this.step({ type: 'connectionError', conn: c.id });
    await Promise.all(closing);
    await Promise.allSettled([...this.pendingWork]);
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.wakeupTimer?.cancel();
    // connections in TIME_WAIT will not see it end now: whoever waits for their demotion is let go
    for (const [conn, list] of this.demotionWaiters) {
      this.demotionWaiters.delete(conn);
      for (const f of list) f();
    }
    for (const [req, answer] of this.waiting) {
      this.waiting.delete(req);
      answer({
        kind: 'disconnected',
        conn: undefined,
        reason: 'ConnectionError',
        cause: new NetError('NET_ABORTED', 'closed'),
      });
    }
  }

  // --- the step and its actions -----------------------------------------------------------------

  private register(id: SocketId, bearer: Bearer, conn: ConnId | undefined, connectMs: Millis | undefined): Sock {
    const endpoint = bearer.remote;
    const mux = new Mux(bearer, { clock: this.clock });
    const s: Sock = {
      id,
      peer: endpoint ? formatEndpoint(endpoint) : id,
      endpoint,
      conn,
      mux,
      connectMs,
      connection: undefined,
      handshaking: false,
      orderly: false,
      closedByUs: false,
      closedWhy: undefined,
      detach: undefined,
    };
    this.socks.set(id, s);
    mux.on('close', (error) => this.onSocketClosed(s, error));
    return s;
  }

  private onSocketClosed(s: Sock, error: NetError | undefined): void {
    s.detach?.();
    this.emit('socketClosed', s.id, s.conn, s.peer, error);
    if (s.closedByUs) return;
    this.socks.delete(s.id);
    this.traceSocket({ type: 'peerClosed', conn: s.conn, sock: s.id, code: error?.code });
    // during the handshake its own outcome reports the end
    if (s.handshaking || s.conn === undefined) return;
    this.step({ type: 'connectionError', conn: s.conn });
  }

  private step(event: NodeEvent): ReturnType<typeof nodeStep> {
    const now = this.clock.now();
    const r = nodeStep(this.state, event, now);
    for (const t of r.cmTrace) this.emit('trace', { source: 'connectionManager', at: now, event: t });
    for (const t of r.igTrace) this.emit('trace', { source: 'inboundGovernor', at: now, event: t });
    // orderly closes are those into TIME_WAIT; everything else the core closes is an abort (RST)
    const terminating = new Set<ConnId>();
    for (const t of r.cmTrace) {
      if (t.type !== 'transition') continue;
      if (t.to === 'Terminating') terminating.add(t.conn);
      else terminating.delete(t.conn);
    }
    const pruned = new Set<ConnId>(r.cmTrace.flatMap((t) => (t.type === 'prune' ? t.pruned : [])));
    const why = (conn: ConnId | undefined): NetError | undefined => {
      if (conn !== undefined && pruned.has(conn))
        return new NetError('NET_ABORTED', 'closed by the connection manager: pruned above the inbound hard limit');
      if (event.type === 'timer' && event.timer === 'handshake' && event.conn === conn)
        return new NetError(
          'HANDSHAKE_TIMEOUT',
          `no handshake within ${this.state.cm.config.handshakeTimeout} ms (the connection manager's limit)`,
        );
      return undefined;
    };
    for (const a of r.actions) this.perform(a, now, terminating, why);
    // a connection the core forgot needs no cause any more (its acquirer, if any, was answered above)
    for (const t of r.cmTrace) if (t.type === 'transition' && t.to === 'Unknown') this.causes.delete(t.conn);
    if (this.demotionWaiters.size > 0) {
      for (const [conn, list] of this.demotionWaiters) {
        if (holdsOutbound(this.state.cm, conn)) continue;
        this.demotionWaiters.delete(conn);
        for (const f of list) f();
      }
    }
    const inbound = this.state.cm.counters.inboundConns;
    if (inbound !== this.lastInbound) {
      this.lastInbound = inbound;
      this.emit('inbound', inbound);
    }
    return r;
  }

  private perform(
    a: NodeAction,
    now: Millis,
    terminating: ReadonlySet<ConnId>,
    why: (conn: ConnId | undefined) => NetError | undefined,
  ): void {
    switch (a.type) {
      case 'connect':
        this.track(this.dial(a.conn, a.sock, a.peer, a.bindLocal));
        return;
      case 'startHandshake': {
        const s = this.socks.get(a.sock);
        if (s) {
          s.conn = a.conn;
          this.track(this.handshake(s, a.conn, a.provenance));
        }
        return;
      }
      case 'closeSocket':
        this.closeSocket(a.sock, a.conn, a.conn !== undefined && terminating.has(a.conn), why(a.conn));
        return;
      case 'armTimer': {
        const key = `${a.conn}/${a.timer}`;
        this.timers.get(key)?.cancel();
        this.timers.delete(key);
        if (Number.isFinite(a.at))
          this.timers.set(key, this.arm(a.at, now, key, { type: 'timer', conn: a.conn, timer: a.timer }));
        return;
      }
      case 'cancelTimer': {
        const key = `${a.conn}/${a.timer}`;
        this.timers.get(key)?.cancel();
        this.timers.delete(key);
        return;
      }
      case 'armWakeup':
        this.wakeupTimer?.cancel();
        if (Number.isFinite(a.at)) this.wakeupTimer = this.arm(a.at, now, undefined, { type: 'wakeup' });
        return;
      case 'acquireDone': {
        const answer = this.waiting.get(a.req);
        this.waiting.delete(a.req);
        answer?.(this.outboundAnswer(a.result));
        return;
      }
      case 'newConnection':
      case 'connectionClosed':
        // handed to the inbound governor inside nodeStep
        return;
    }
  }

  /** A clock timer for `at` that feeds `event`; one firing early by the clock's rounding is re-armed. */
  private arm(at: Millis, now: Millis, key: string | undefined, event: NodeEvent): Timer {
    return this.clock.setTimer(at - now, () => {
      const t = this.clock.now();
      if (t < at) {
        const again = this.arm(at, t, key, event);
        if (key) this.timers.set(key, again);
        else this.wakeupTimer = again;
        return;
      }
      if (key) this.timers.delete(key);
      if (!this.closed) this.step(event);
    });
  }

  private outboundAnswer(r: AcquireResult): OutboundAcquire {
    if (r.kind === 'error') return r;
    if (r.kind === 'disconnected') {
      const cause = r.conn === undefined ? undefined : this.causes.get(r.conn);
      if (r.conn !== undefined) this.causes.delete(r.conn);
      return { kind: 'disconnected', conn: r.conn, reason: r.reason, cause };
    }
    const connection = this.connection(r.conn);
    if (connection === undefined) {
      return { kind: 'disconnected', conn: r.conn, reason: 'ConnectionError', cause: undefined };
    }
    return {
      kind: 'connected',
      conn: r.conn,
      connection,
      dataFlow: r.dataFlow,
      reused: connection.provenance === 'inbound',
    };
  }

  private track(p: Promise<void>): void {
    this.pendingWork.add(p);
    void p.finally(() => this.pendingWork.delete(p));
  }

  private async dial(conn: ConnId, sock: SocketId, peer: Peer, bindLocal: string | undefined): Promise<void> {
    this.traceSocket({ type: 'dial', conn, sock, peer, bindLocal });
    let dialled: { bearer: Bearer; connectMs: Millis };
    try {
      const local = bindLocal === undefined ? undefined : parseEndpoint(bindLocal);
      dialled = await this.dialer.dial(parseEndpoint(peer), local, this.stopping.signal);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.causes.set(conn, err);
      this.traceSocket({ type: 'dialFailed', conn, sock, peer, code: e instanceof NetError ? e.code : err.message });
      if (!this.closed) this.step({ type: 'connectFailed', conn, sock });
      return;
    }
    if (this.closed) {
      dialled.bearer.reset();
      return;
    }
    this.register(sock, dialled.bearer, conn, dialled.connectMs);
    this.step({ type: 'connected', conn, sock });
  }

  private async handshake(s: Sock, conn: ConnId, provenance: Provenance): Promise<void> {
    const hs = this.handshakeSettings;
    s.handshaking = true;
    const base = {
      sock: s.id,
      conn,
      peer: s.peer,
      provenance,
      version: undefined,
      dataFlow: undefined,
      refusal: undefined,
      error: undefined,
      handshakeMs: undefined,
    } satisfies Omit<HandshakeOutcome, 'outcome'>;
    let outcome: HandshakeOutcome;
    let event: NodeEvent;
    try {
      const r = await openConnection(s.mux, {
        role: provenance === 'outbound' ? 'proposer' : 'acceptor',
        versions: hs.versions,
        data: hs.data,
        clock: this.clock,
        ...(hs.timeoutMs === undefined ? {} : { handshakeTimeoutMs: hs.timeoutMs }),
        ...(hs.responders ? { responders: hs.responders } : {}),
        ...(s.endpoint ? { peer: s.endpoint } : {}),
        ...(s.connectMs === undefined ? {} : { connectMs: s.connectMs }),
      });
      if (r.kind === 'connected') {
        const c = r.connection;
        s.connection = c;
        outcome = {
          ...base,
          outcome: 'accepted',
          version: c.version,
          dataFlow: c.dataFlow,
          handshakeMs: c.handshakeMs,
        };
        event = { type: 'handshakeDone', conn, sock: s.id, dataFlow: c.dataFlow };
      } else {
        // our refusal or query answer is on its way with a FIN (runHandshake closes the mux)
        s.orderly = true;
        outcome =
          r.kind === 'refused'
            ? { ...base, outcome: 'refused', refusal: r.reason, handshakeMs: r.handshakeMs }
            : { ...base, outcome: 'query', handshakeMs: r.handshakeMs };
        event = { type: 'handshakeFailed', conn, sock: s.id, failure: 'refused' };
      }
    } catch (e) {
      const err =
        s.closedWhy ??
        (e instanceof NetError ? e : new NetError('PROTOCOL_ERROR', e instanceof Error ? e.message : String(e)));
      this.causes.set(conn, err);
      outcome = { ...base, outcome: 'failed', error: err };
      event = { type: 'handshakeFailed', conn, sock: s.id, failure: handshakeFailureOf(err) };
    }
    s.handshaking = false;
    this.traceSocket({ type: 'handshake', outcome });
    this.emit('handshake', outcome);
    if (s.closedByUs || this.closed) {
      if (s.connection && !s.connection.isClosed) s.connection.abort();
      return;
    }
    if (s.mux.isClosed && event.type === 'handshakeDone') {
      // the peer left between the answer and now: the core sees a negotiated connection end
      this.step(event);
      this.socks.delete(s.id);
      this.step({ type: 'connectionError', conn });
      return;
    }
    this.step(event);
    const c = s.connection;
    if (event.type === 'handshakeDone' && c && this.socks.get(s.id) === s) {
      s.detach = watchResponders(c, conn, (activity: ResponderActivity) => {
        if (!s.closedByUs && !this.closed) this.step(activity);
      });
      this.emit('negotiated', conn, c, provenance);
    }
  }

  private closeSocket(sock: SocketId, conn: ConnId | undefined, orderly: boolean, why: NetError | undefined): void {
    const s = this.socks.get(sock);
    if (!s) return;
    this.socks.delete(sock);
    s.closedByUs = true;
    s.closedWhy = why;
    s.detach?.();
    if (s.orderly) {
      // our handshake refusal is already leaving with a FIN: let the peer read why
      this.traceSocket({ type: 'close', conn, sock, how: 'orderly' });
      return;
    }
    if (orderly && !s.handshaking) {
      this.traceSocket({ type: 'close', conn, sock, how: 'orderly' });
      void (s.connection ? s.connection.close(ORDERLY_CLOSE_TIMEOUT) : s.mux.close(ORDERLY_CLOSE_TIMEOUT));
      return;
    }
    this.traceSocket({ type: 'close', conn, sock, how: 'reset' });
    s.mux.abort();
  }

  private traceSocket(event: SocketTrace): void {
    this.emit('trace', { source: 'socket', at: this.clock.now(), event });
  }
}
