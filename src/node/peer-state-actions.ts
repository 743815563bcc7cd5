/**
 * The peer state actions over real connections (governor.md §3, the reference's
 * `PeerStateActions.hs`): the bridge from the governor driver's jobs (src/driver/jobs.ts) to
 * connections the connection manager hands out (`OutboundConnector`, outbound.ts).
 *
 * - establish (cold -> warm): resolve the peer's name (injected resolver), acquire a connection
 *   (connect + handshake, or reuse of an inbound duplex one), start the established protocols
 *   (keep-alive every 10 s), report `warm`.
 * - activate (warm -> hot): start the hot protocols (chain-sync from our chain's points, or the
 *   peer's tip, its headers handed to `onChainSync` for the peer metrics), report `hot`.
 * - deactivate (hot -> warm): stop the hot protocols, all within 300 s: clean -> `warm`; an error
 *   or the time limit -> the connection ends, `cooling` (the driver waits for cold).
 * - close (warm -> cold): `cooling`, stop every protocol within 120 s, release the connection;
 *   `cold` once the manager no longer holds it (`demoted`, after its time-wait).
 * - monitoring (§3.3): a protocol error or the connection ending (remote close, reset) -> the
 *   connection is torn down, `cooling`, then `cold` with the exit policy's error delay (10 s); a
 *   hot protocol returning by itself -> hot -> warm, an established one -> close, each with the
 *   repromote delay of §3.4.
 *
 * Statuses are reported through `onStatus` (the driver's listener) before the promise of the action
 * asked settles, as the driver expects. Time comes from the injected `Clock`; every step is a typed
 * trace event (`onTrace`).
 */
import {
  type ConnectionId,
  type Established,
  errorText,
  type PeerSharingActions,
  type PeerStateActions,
  type StatusChange,
} from '../driver/actions.js';
import type { DiffusionMode, Peer, PeerStatus } from '../governor/types.js';
import type { Clock, Millis } from '../lib/clock.js';
import { SpoError } from '../lib/errors.js';
import type { Point } from '../net/codec/point.js';
import {
  CLOSE_CONNECTION_TIMEOUT_MS,
  type Connection,
  DEACTIVATE_TIMEOUT_MS,
  type InitiatorApp,
  type InitiatorOutcome,
} from '../net/connection.js';
import { NetError } from '../net/errors.js';
import { Protocol } from '../net/mux/limits.js';
import type { ChainSyncEvent } from '../net/protocols/chain-sync/client.js';
import { keepAliveLoop } from '../net/protocols/keep-alive/client.js';
import type { Temperature } from '../net/protocols/types.js';
import type { Endpoint } from '../net/transport/bearer.js';
import type { OutboundConnector } from './outbound.js';

/** The exit policy's delay after a protocol error (`repromoteErrorDelay`, §3.4). */
export const REPROMOTE_ERROR_DELAY_MS: Millis = 10_000;
/** The delay after a mini-protocol returned by itself (any result but chain-sync's special ones, §3.4). */
export const REPROMOTE_RETURN_DELAY_MS: Millis = 10_000;

/** Name resolution, as a parameter (src/net takes it so; the live node passes src/dns). */
export interface PeerResolver {
  /** Every A/AAAA address of a DNS name (the first is dialled). */
  addresses(name: string, signal?: AbortSignal): Promise<Array<{ address: string; family: 4 | 6 }>>;
}

export type PeerStateEventType =
  | 'EstablishStart'
  | 'Established'
  | 'EstablishFailed'
  | 'Activated'
  | 'ActivateFailed'
  | 'DeactivateStart'
  | 'Deactivated'
  | 'DeactivateFailed'
  | 'CloseStart'
  | 'Released'
  | 'ProtocolError'
  | 'ProtocolReturned'
  | 'ConnectionLost'
  | 'Cold';

/** One step of a peer's connection, for logs and tests (times in ms on the injected clock). */
export interface PeerStateTrace {
  at: Millis;
  type: PeerStateEventType;
  peer: Peer;
  connection?: ConnectionId;
  /** The status after the event. */
  status?: PeerStatus;
  /** Error code or message, the protocol that ended, the address dialled. */
  detail?: string;
}

export interface PeerStateActionsOptions {
  clock: Clock;
  connector: OutboundConnector;
  /** Resolves peers given by name (IP literals need none). */
  resolver?: PeerResolver;
  /** Chain-sync events of hot peers (the driver's `recordHeader` feeds the peer metrics from them). */
  onChainSync?: (peer: Peer, event: ChainSyncEvent) => void;
  /**
   * Our chain's points for the hot chain-sync's MsgFindIntersect, newest first (the header
   * relay's `HeaderChain.points()`); none, or none the peer has: from the peer's tip.
   */
  intersectPoints?: () => Point[];
  /** Keep-alive interval (default the node's 10 s). */
  keepAliveIntervalMs?: Millis;
  /** Each keep-alive round trip of a warm or hot peer (the live node's RTT column). */
  onRtt?: (peer: Peer, rttMs: Millis) => void;
  /** hot -> warm limit (default 300 s) and warm -> cold limit (default 120 s). */
  deactivateTimeoutMs?: Millis;
  closeTimeoutMs?: Millis;
}

/** One outbound connection of a peer, while it is not cold. */
interface Entry {
  peer: Peer;
  id: ConnectionId;
  conn: Connection;
  status: PeerStatus;
  /** Groups we asked to stop (their returns are not asynchronous demotions). */
  stopping: Set<Temperature>;
  /** The max repromote delay over the protocols that returned by themselves (§3.3). */
  returnDelayMs: Millis | undefined;
  /** The connection errored or was lost (cold is then reported with the error delay). */
  errored: boolean;
  /** Waiting for the manager to demote it (cooling -> cold). */
  watchingCold: boolean;
}

/** A peer state action that cannot be done in the peer's state (the reference's exceptions, §3.2). */
export class PeerStateError extends SpoError {
  constructor(code: PeerStateErrorCode, message: string) {
    super(code, message);
    this.name = 'PeerStateError';
  }
}

export type PeerStateErrorCode =
  | 'PEER_ADDRESS'
  | 'CONNECTION_EXISTS'
  | 'COLD_ACTIVATION'
  | 'CONNECTION_GONE'
  | 'DEACTIVATION_FAILED'
  | 'CLOSE_FAILED'
  | 'NO_PEER_SHARING'
  | 'STOPPED';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `host:port` / `[v6]:port` into its parts. */
function splitPeer(peer: Peer): { host: string; port: number } | undefined {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(peer);
  const m = v6 ?? /^([^:]+):(\d+)$/.exec(peer);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1] as string, port };
}

/**
 * The hot chain-sync application: intersect at our own chain's points when we have some (so a peer
 * resumes where our chain is, and a fork of it rolls back to the fork point), otherwise, or when
 * the peer has none of them, at the peer's tip (rather than from genesis); then one request at a
 * time until asked to stop.
 */
function followHot(onEvent: (e: ChainSyncEvent) => void, points?: () => Point[]): InitiatorApp<void> {
  return async (conn, stop) => {
    const cs = conn.chainSyncClient;
    const ours = points?.() ?? [];
    const found = ours.length > 0 && !stop.aborted && (await cs.findIntersect(ours)).found;
    if (!found && !stop.aborted) {
      const { tip } = await cs.findIntersect([]);
      if (tip.point && !stop.aborted) await cs.findIntersect([tip.point]);
    }
    while (!stop.aborted) onEvent(await cs.requestNext());
    await cs.done();
  };
}

export class LivePeerStateActions implements PeerStateActions, PeerSharingActions {
  private readonly clock: Clock;
  private readonly entries = new Map<Peer, Entry>();
  /** Peers with an establish under way. */
  private readonly establishing = new Set<Peer>();
  private nextId = 1;
  private statusListener: ((c: StatusChange) => void) | undefined;
  private readonly traceListeners: Array<(t: PeerStateTrace) => void> = [];
  private stopped = false;

  constructor(private readonly o: PeerStateActionsOptions) {
    this.clock = o.clock;
  }

  onTrace(listener: (t: PeerStateTrace) => void): void {
    this.traceListeners.push(listener);
  }

  onStatus(listener: (c: StatusChange) => void): void {
    this.statusListener = listener;
  }

  status(peer: Peer): PeerStatus | undefined {
    return this.entries.get(peer)?.status;
  }

  /** The connection of a peer that is not cold (for tests and the node's views). */
  connectionOf(peer: Peer): Connection | undefined {
    return this.entries.get(peer)?.conn;
  }

  /** Peers with a connection, and their statuses. */
  snapshot(): Map<Peer, PeerStatus> {
    return new Map([...this.entries].map(([p, e]) => [p, e.status]));
  }

  // -------------------------------------------------------------------------------------------

  private trace(type: PeerStateEventType, peer: Peer, e?: Entry, detail?: string): void {
    if (this.traceListeners.length === 0) return;
    const t: PeerStateTrace = { at: this.clock.now(), type, peer };
    if (e) {
      t.connection = e.id;
      t.status = e.status;
    }
    if (detail !== undefined) t.detail = detail;
    for (const l of this.traceListeners) l(t);
  }

  private setStatus(e: Entry, status: PeerStatus, repromoteDelayMs?: Millis): void {
    e.status = status;
    if (this.stopped) return;
    this.statusListener?.({ peer: e.peer, connection: e.id, status, repromoteDelayMs });
  }

  private async resolve(peer: Peer): Promise<Endpoint> {
    const parts = splitPeer(peer);
    if (!parts) throw new PeerStateError('PEER_ADDRESS', `${peer}: not HOST:PORT`);
    const { host, port } = parts;
    if (IPV4.test(host) || host.includes(':')) return { host, port };
    if (!this.o.resolver) throw new PeerStateError('PEER_ADDRESS', `${peer}: a name, and no resolver to resolve it`);
    const addresses = await this.o.resolver.addresses(host);
    const first = addresses[0];
    if (!first) throw new PeerStateError('PEER_ADDRESS', `${peer}: the name has no address`);
    return { host: first.address, port };
  }

  // -------------------------------------------------------------------------------------------
  // cold -> warm

  establish(peer: Peer, mode: { diffusionMode: DiffusionMode; behindFirewall: boolean }): Promise<Established> {
    return this.doEstablish(peer, mode);
  }

  private async doEstablish(
    peer: Peer,
    mode: { diffusionMode: DiffusionMode; behindFirewall: boolean },
  ): Promise<Established> {
    if (this.stopped) throw new PeerStateError('STOPPED', 'the peer state actions were stopped');
    const have = this.entries.get(peer);
    if (have || this.establishing.has(peer)) {
      throw new PeerStateError('CONNECTION_EXISTS', `${peer}: already ${have?.status ?? 'connecting'}`);
    }
    this.establishing.add(peer);
    this.trace('EstablishStart', peer, undefined, mode.diffusionMode);
    let conn: Connection;
    try {
      const address = await this.resolve(peer);
      conn = await this.o.connector.acquire({
        peer,
        address,
        diffusionMode: mode.diffusionMode,
        behindFirewall: mode.behindFirewall,
      });
    } catch (e) {
      this.establishing.delete(peer);
      this.trace('EstablishFailed', peer, undefined, errorText(e));
      throw e;
    }
    this.establishing.delete(peer);
    if (this.stopped || conn.isClosed) {
      if (!conn.isClosed) conn.abort();
      const err = new NetError('CONNECTION_CLOSED', `${peer}: the connection ended during establish`);
      this.trace('EstablishFailed', peer, undefined, err.code);
      throw err;
    }
    const e: Entry = {
      peer,
      id: this.nextId++,
      conn,
      status: 'warm',
      stopping: new Set(),
      returnDelayMs: undefined,
      errored: false,
      watchingCold: false,
    };
    this.entries.set(peer, e);
    conn.on('initiatorResult', (outcome) => this.onOutcome(e, outcome));
    void conn.closed.then((err) => this.onClosed(e, err));
    conn.startInitiators('established', {
      [Protocol.keepAlive]: keepAliveLoop({
        ...(this.o.keepAliveIntervalMs === undefined ? {} : { intervalMs: this.o.keepAliveIntervalMs }),
        ...(this.o.onRtt ? { onRtt: (rtt: Millis) => this.o.onRtt?.(peer, rtt) } : {}),
      }),
    });
    this.setStatus(e, 'warm');
    this.trace('Established', peer, e, conn.where);
    return { connection: e.id, sharing: conn.protocols.includes(Protocol.peerSharing) };
  }

  // -------------------------------------------------------------------------------------------
  // warm -> hot

  activate(peer: Peer): Promise<void> {
    const e = this.entries.get(peer);
    if (e?.status !== 'warm') {
      const err = new PeerStateError('COLD_ACTIVATION', `${peer}: cannot activate a ${e?.status ?? 'cold'} peer`);
      this.trace('ActivateFailed', peer, e, err.code);
      return Promise.reject(err);
    }
    try {
      e.stopping.delete('hot');
      e.conn.startInitiators('hot', {
        [Protocol.chainSync]: followHot((ev) => this.o.onChainSync?.(peer, ev), this.o.intersectPoints),
      });
    } catch (err) {
      this.trace('ActivateFailed', peer, e, errorText(err));
      return Promise.reject(err);
    }
    this.setStatus(e, 'hot');
    this.trace('Activated', peer, e);
    return Promise.resolve();
  }

  // -------------------------------------------------------------------------------------------
  // hot -> warm

  deactivate(peer: Peer): Promise<void> {
    return this.doDeactivate(peer);
  }

  private async doDeactivate(peer: Peer): Promise<void> {
    const e = this.entries.get(peer);
    if (e?.status === 'warm') return; // the monitor got there first (§3.2)
    if (e?.status !== 'hot') {
      const err = new PeerStateError('CONNECTION_GONE', `${peer}: not hot (${e?.status ?? 'cold'})`);
      this.trace('DeactivateFailed', peer, e, err.code);
      throw err;
    }
    this.trace('DeactivateStart', peer, e);
    const outcomes = await this.stopGroup(e, 'hot', this.o.deactivateTimeoutMs ?? DEACTIVATE_TIMEOUT_MS);
    const failed = outcomes.find((x) => x.status === 'errored');
    if (failed || e.status !== 'hot' || e.conn.isClosed) {
      // An error (or the time limit, which ended the connection): it is going away.
      this.tearDown(e, failed?.status === 'errored' ? errorText(failed.error) : 'CONNECTION_CLOSED');
      const err = new PeerStateError('DEACTIVATION_FAILED', `${peer}: hot protocols did not stop cleanly`);
      this.trace('DeactivateFailed', peer, e, failed?.status === 'errored' ? errorText(failed.error) : e.status);
      throw err;
    }
    this.setStatus(e, 'warm');
    this.trace('Deactivated', peer, e);
  }

  /** Stops a group of initiators we asked to stop (their returns are then not demotions). */
  private stopGroup(e: Entry, t: Temperature, timeoutMs: Millis): Promise<InitiatorOutcome[]> {
    e.stopping.add(t);
    return e.conn.stopInitiators(t, timeoutMs);
  }

  // -------------------------------------------------------------------------------------------
  // warm -> cold

  close(peer: Peer): Promise<void> {
    return this.doClose(peer);
  }

  private async doClose(peer: Peer): Promise<void> {
    const e = this.entries.get(peer);
    if (!e || e.status === 'cold') return;
    this.trace('CloseStart', peer, e);
    if (e.status === 'cooling') return; // already going away; the driver waits for cold
    this.setStatus(e, 'cooling');
    const started = this.clock.now();
    const budget = this.o.closeTimeoutMs ?? CLOSE_CONNECTION_TIMEOUT_MS;
    // All three groups within one limit (§3.2): hot first, then warm and established.
    const outcomes: InitiatorOutcome[] = [];
    for (const t of ['hot', 'warm', 'established'] as const) {
      const left = Math.max(0, budget - (this.clock.now() - started));
      outcomes.push(...(await this.stopGroup(e, t, left)));
    }
    const failed = outcomes.find((x) => x.status === 'errored');
    if (failed || e.conn.isClosed) {
      this.tearDown(e, failed?.status === 'errored' ? errorText(failed.error) : 'CONNECTION_CLOSED');
      throw new PeerStateError('CLOSE_FAILED', `${peer}: protocols did not stop cleanly`);
    }
    await this.o.connector.release(e.conn).catch(() => undefined);
    this.trace('Released', peer, e);
    this.watchCold(e, undefined);
  }

  // -------------------------------------------------------------------------------------------
  // monitoring (§3.3)

  private onOutcome(e: Entry, outcome: InitiatorOutcome): void {
    if (this.entries.get(e.peer) !== e || e.status === 'cooling' || e.status === 'cold') return;
    if (e.stopping.has(outcome.temperature)) return;
    const name = `protocol ${outcome.protocol}`;
    if (outcome.status === 'errored') {
      this.tearDown(e, errorText(outcome.error));
      this.trace('ProtocolError', e.peer, e, `${name}: ${errorText(outcome.error)}`);
      return;
    }
    this.trace('ProtocolReturned', e.peer, e, name);
    e.returnDelayMs = Math.max(e.returnDelayMs ?? 0, REPROMOTE_RETURN_DELAY_MS);
    if (outcome.temperature === 'hot') {
      // hot -> warm by itself: the rest of the hot group stops, the governor hears warm with the delay.
      const delay = e.returnDelayMs;
      void this.stopGroup(e, 'hot', this.o.deactivateTimeoutMs ?? DEACTIVATE_TIMEOUT_MS).then((outs) => {
        if (this.entries.get(e.peer) !== e || e.status !== 'hot') return;
        const failed = outs.find((x) => x.status === 'errored');
        if (failed) this.tearDown(e, errorText(failed.error));
        else this.setStatus(e, 'warm', delay);
      });
    } else {
      void this.doClose(e.peer).catch(() => undefined);
    }
  }

  private onClosed(e: Entry, err: NetError | undefined): void {
    if (this.entries.get(e.peer) !== e) return;
    if (e.status === 'warm' || e.status === 'hot') {
      this.tearDown(e, err?.code ?? 'CONNECTION_CLOSED');
      this.trace('ConnectionLost', e.peer, e, err?.code ?? 'closed by the peer');
    }
  }

  /** The connection errored or is lost: it ends (RST), the peer is cooling, cold once demoted. */
  private tearDown(e: Entry, why: string): void {
    e.errored = true;
    if (!e.conn.isClosed) e.conn.abort();
    if (e.status !== 'cooling' && e.status !== 'cold') this.setStatus(e, 'cooling');
    this.watchCold(e, why);
  }

  private watchCold(e: Entry, why: string | undefined): void {
    if (e.watchingCold) return;
    e.watchingCold = true;
    void this.o.connector
      .demoted(e.conn)
      .catch(() => undefined)
      .then(() => {
        if (this.entries.get(e.peer) !== e) return;
        this.entries.delete(e.peer);
        // After an error the exit policy's error delay; after a return by itself its delay (§3.3-3.4).
        const delay = e.errored ? REPROMOTE_ERROR_DELAY_MS : e.returnDelayMs;
        this.setStatus(e, 'cold', delay);
        this.trace('Cold', e.peer, e, why);
      });
  }

  // -------------------------------------------------------------------------------------------
  // peer sharing (§7)

  requestPeers(peer: Peer, amount: number): Promise<Peer[]> {
    const e = this.entries.get(peer);
    if (!e || (e.status !== 'warm' && e.status !== 'hot')) {
      return Promise.reject(new PeerStateError('CONNECTION_GONE', `${peer}: no warm connection`));
    }
    if (!e.conn.protocols.includes(Protocol.peerSharing)) {
      return Promise.reject(new PeerStateError('NO_PEER_SHARING', `${peer}: peer sharing not negotiated`));
    }
    return e.conn
      .sharePeers(amount)
      .then((list) => list.map((a) => (a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`)));
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Ends every connection (RST) and reports nothing more; for a node shutting down after its driver
   * stopped. Resolves when the connections are closed.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.entries.values()];
    for (const e of all) if (!e.conn.isClosed) e.conn.abort();
    await Promise.all(all.map((e) => e.conn.closed));
    this.entries.clear();
  }
}
