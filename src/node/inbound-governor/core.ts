/**
 * The inbound governor's pure core (governor.md §10; the reference's
 * `Ouroboros.Network.InboundGovernor`): per connection the remote's use of it (RemoteIdle with its
 * idle timer, RemoteCold, RemoteWarm, RemoteHot) from the responders' start and end, the calls
 * into the connection manager that follow (promotedToWarmRemote, demotedToColdRemote,
 * releaseInbound, through a `CmPort`), the fresh and mature duplex peers offered to peer sharing,
 * and the node's `inboundGovernor.*` counters.
 *
 * Same shape as the connection manager's core: state updated in place, `now` passed in, timers
 * asked for as actions, every remote-state change traced.
 */
import type { Millis } from '../../lib/clock.js';
import type {
  ConnId,
  DataFlow,
  Peer,
  Provenance,
  ReleaseInboundResult,
  RemoteOpResult,
} from '../connection-manager/core.js';
import type { RemoteSt, RemoteStOrNone } from '../transitions.js';

/** Defaults from governor.md §11 (milliseconds). */
export const INBOUND_IDLE_TIMEOUT: Millis = 5_000;
/** A duplex peer connected this long is "mature" and may be shared (`inboundMaturePeerDelay`). */
export const MATURE_PEER_DELAY: Millis = 15 * 60_000;
/** The loop's wake-up when nothing happens, so maturation still runs (`inactionTimeout`). */
export const INACTION_TIMEOUT: Millis = 31_415.927;

/** What the inbound governor asks of the connection manager (the reference's handle methods). */
export interface CmPort {
  promotedToWarmRemote(conn: ConnId): RemoteOpResult;
  demotedToColdRemote(conn: ConnId): RemoteOpResult;
  releaseInbound(conn: ConnId): ReleaseInboundResult;
}

export interface IgConfig {
  idleTimeout: Millis;
  matureDelay: Millis;
  inactionTimeout: Millis;
}

export const DEFAULT_IG_CONFIG: IgConfig = {
  idleTimeout: INBOUND_IDLE_TIMEOUT,
  matureDelay: MATURE_PEER_DELAY,
  inactionTimeout: INACTION_TIMEOUT,
};

export interface IgConn {
  readonly conn: ConnId;
  readonly peer: Peer;
  readonly dataFlow: DataFlow;
  readonly provenance: Provenance;
  remote: RemoteSt;
  /** When the RemoteIdle timer expires (only while RemoteIdle). */
  idleAt: Millis | undefined;
  /** Running hot responders and running other responders. */
  hot: number;
  other: number;
}

/** The node's `inboundGovernor.*` counters (cardano-node's metric names: idle, cold, warm, hot). */
export interface IgCounters {
  idle: number;
  cold: number;
  warm: number;
  hot: number;
}

export interface IgState {
  config: IgConfig;
  conns: Map<ConnId, IgConn>;
  /** Duplex peers by the time they connected, not yet mature (insertion order = time order). */
  fresh: Map<Peer, Millis>;
  /** Duplex peers connected for at least `matureDelay` (offered to peer sharing). */
  mature: Set<Peer>;
  counters: IgCounters;
  /** Tracked connections per peer (a peer leaves fresh/mature when its last one goes). */
  perPeer: Map<Peer, number>;
  /** The pending wake-up, if one is armed. */
  wakeupAt: Millis | undefined;
}

export type IgAction =
  | { type: 'armTimer'; conn: ConnId; timer: 'inboundIdle'; at: Millis }
  | { type: 'cancelTimer'; conn: ConnId; timer: 'inboundIdle' }
  | { type: 'armWakeup'; at: Millis };

export type IgTrace =
  | { type: 'remoteTransition'; conn: ConnId; peer: Peer; from: RemoteStOrNone; to: RemoteStOrNone; at: Millis }
  | { type: 'matured'; peers: Peer[]; at: Millis }
  | { type: 'cmResult'; conn: ConnId; call: keyof CmPort; result: string; at: Millis };

export interface IgOut {
  actions: IgAction[];
  trace: IgTrace[];
}

export function initialIgState(config: IgConfig = DEFAULT_IG_CONFIG): IgState {
  return {
    config,
    conns: new Map(),
    fresh: new Map(),
    mature: new Set(),
    counters: { idle: 0, cold: 0, warm: 0, hot: 0 },
    perPeer: new Map(),
    wakeupAt: undefined,
  };
}

const COUNTER: Record<RemoteSt, keyof IgCounters> = {
  RemoteIdle: 'idle',
  RemoteCold: 'cold',
  RemoteWarm: 'warm',
  RemoteHot: 'hot',
};

/** The counters recomputed from the remote states (the test checks they equal `state.counters`). */
export function deriveIgCounters(s: IgState): IgCounters {
  const c: IgCounters = { idle: 0, cold: 0, warm: 0, hot: 0 };
  for (const x of s.conns.values()) c[COUNTER[x.remote]]++;
  return c;
}

function setRemote(s: IgState, c: IgConn, to: RemoteSt, now: Millis, out: IgOut): void {
  s.counters[COUNTER[c.remote]]--;
  s.counters[COUNTER[to]]++;
  out.trace.push({ type: 'remoteTransition', conn: c.conn, peer: c.peer, from: c.remote, to, at: now });
  c.remote = to;
}

function toIdle(s: IgState, c: IgConn, now: Millis, out: IgOut): void {
  setRemote(s, c, 'RemoteIdle', now, out);
  c.idleAt = now + s.config.idleTimeout;
  out.actions.push({ type: 'armTimer', conn: c.conn, timer: 'inboundIdle', at: c.idleAt });
}

function leaveIdle(c: IgConn, out: IgOut): void {
  if (c.idleAt !== undefined) out.actions.push({ type: 'cancelTimer', conn: c.conn, timer: 'inboundIdle' });
  c.idleAt = undefined;
}

/** Forgets a connection (its mux finished, it was committed or pruned). */
function unregister(s: IgState, c: IgConn, now: Millis, out: IgOut): void {
  leaveIdle(c, out);
  s.counters[COUNTER[c.remote]]--;
  s.conns.delete(c.conn);
  out.trace.push({ type: 'remoteTransition', conn: c.conn, peer: c.peer, from: c.remote, to: null, at: now });
  const left = (s.perPeer.get(c.peer) ?? 1) - 1;
  if (left > 0) s.perPeer.set(c.peer, left);
  else {
    s.perPeer.delete(c.peer);
    s.fresh.delete(c.peer);
    s.mature.delete(c.peer);
  }
}

/** Moves fresh duplex peers old enough to `mature`, and keeps a wake-up armed while any are fresh. */
function housekeeping(s: IgState, now: Millis, out: IgOut): void {
  const matured: Peer[] = [];
  for (const [peer, since] of s.fresh) {
    if (since + s.config.matureDelay > now) break;
    matured.push(peer);
  }
  for (const p of matured) {
    s.fresh.delete(p);
    s.mature.add(p);
  }
  if (matured.length > 0) out.trace.push({ type: 'matured', peers: matured, at: now });
  if (s.fresh.size > 0 && (s.wakeupAt === undefined || s.wakeupAt < now)) {
    s.wakeupAt = now + s.config.inactionTimeout;
    out.actions.push({ type: 'armWakeup', at: s.wakeupAt });
  }
}

/** NewConnection: watch a negotiated connection (inbound, or outbound duplex); a repeat is ignored. */
export function newConnection(
  s: IgState,
  now: Millis,
  info: { conn: ConnId; peer: Peer; provenance: Provenance; dataFlow: DataFlow },
  out: IgOut,
): void {
  if (!s.conns.has(info.conn)) {
    const c: IgConn = { ...info, remote: 'RemoteIdle', idleAt: now + s.config.idleTimeout, hot: 0, other: 0 };
    s.conns.set(c.conn, c);
    s.perPeer.set(c.peer, (s.perPeer.get(c.peer) ?? 0) + 1);
    s.counters.idle++;
    out.trace.push({ type: 'remoteTransition', conn: c.conn, peer: c.peer, from: null, to: 'RemoteIdle', at: now });
    out.actions.push({ type: 'armTimer', conn: c.conn, timer: 'inboundIdle', at: c.idleAt as Millis });
    if (info.dataFlow === 'duplex' && !s.fresh.has(info.peer) && !s.mature.has(info.peer)) s.fresh.set(info.peer, now);
  }
  housekeeping(s, now, out);
}

/** CommitRemote: the idle timer expired; the connection manager decides between close and keep. */
function commitRemote(s: IgState, now: Millis, c: IgConn, cm: CmPort, out: IgOut): void {
  c.idleAt = undefined;
  const r = cm.releaseInbound(c.conn);
  out.trace.push({ type: 'cmResult', conn: c.conn, call: 'releaseInbound', result: r, at: now });
  if (r === 'commit') unregister(s, c, now, out);
  else if (r === 'keep') setRemote(s, c, 'RemoteCold', now, out);
}

/** The RemoteIdle timer of `conn` fired (stale timers are ignored). */
export function idleTimerFired(s: IgState, now: Millis, conn: ConnId, cm: CmPort, out: IgOut): void {
  const c = s.conns.get(conn);
  if (c !== undefined && c.remote === 'RemoteIdle' && c.idleAt !== undefined && c.idleAt <= now)
    commitRemote(s, now, c, cm, out);
  housekeeping(s, now, out);
}

/** A responder of `conn` started (on demand: the remote sent its first message). */
export function responderStarted(s: IgState, now: Millis, conn: ConnId, hot: boolean, cm: CmPort, out: IgOut): void {
  let c = s.conns.get(conn);
  // an activity seen after the idle timer expired waits for the commit (§10.3): run it first
  if (c !== undefined && c.remote === 'RemoteIdle' && c.idleAt !== undefined && c.idleAt <= now) {
    commitRemote(s, now, c, cm, out);
    c = s.conns.get(conn);
  }
  if (c !== undefined) {
    if (c.hot + c.other === 0) {
      // AwakeRemote
      const r = cm.promotedToWarmRemote(conn);
      out.trace.push({ type: 'cmResult', conn, call: 'promotedToWarmRemote', result: r, at: now });
      leaveIdle(c, out);
      setRemote(s, c, 'RemoteWarm', now, out);
    }
    if (hot && c.hot === 0) setRemote(s, c, 'RemoteHot', now, out); // RemotePromotedToHot
    if (hot) c.hot++;
    else c.other++;
  }
  housekeeping(s, now, out);
}

/** A responder of `conn` ended; `clean` = it returned (an error stops the mux instead). */
export function responderTerminated(
  s: IgState,
  now: Millis,
  conn: ConnId,
  hot: boolean,
  clean: boolean,
  cm: CmPort,
  out: IgOut,
): void {
  const c = s.conns.get(conn);
  if (c !== undefined && (hot ? c.hot : c.other) > 0) {
    const last = c.hot + c.other === 1;
    if (hot) c.hot--;
    else c.other--;
    if (clean) {
      if (hot && c.hot === 0 && c.remote === 'RemoteHot') setRemote(s, c, 'RemoteWarm', now, out); // RemoteDemotedToWarm
      if (last) {
        // WaitIdleRemote: on success a new idle period starts; otherwise the mux will end it
        const r = cm.demotedToColdRemote(conn);
        out.trace.push({ type: 'cmResult', conn, call: 'demotedToColdRemote', result: r, at: now });
        if (r === 'ok' && s.conns.has(conn)) toIdle(s, c, now, out);
      }
    }
  }
  housekeeping(s, now, out);
}

/** MuxFinished: the connection's sockets are gone; forget it. */
export function connectionClosed(s: IgState, now: Millis, conn: ConnId, out: IgOut): void {
  const c = s.conns.get(conn);
  if (c !== undefined) unregister(s, c, now, out);
  housekeeping(s, now, out);
}

/** The inactivity wake-up fired: run maturation. */
export function wakeup(s: IgState, now: Millis, out: IgOut): void {
  if (s.wakeupAt !== undefined && s.wakeupAt <= now) s.wakeupAt = undefined;
  housekeeping(s, now, out);
}

/** The public state: remote state per connection. */
export function remoteStates(s: IgState): Map<ConnId, RemoteSt> {
  return new Map([...s.conns.values()].map((c) => [c.conn, c.remote]));
}
