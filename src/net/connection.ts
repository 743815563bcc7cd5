/**
 * The negotiated connection: after the handshake, one object per connection that runs every
 * mini-protocol on its own, in both roles when the connection is duplex (governor.md §1, §3, §8-10).
 *
 * - Initiator side: a client per protocol (`keepAliveClient`, `chainSyncClient`, `peerSharingClient`,
 *   `blockFetchClient`), each with its own state machine and queue, so a chain-sync request waiting
 *   at the tip never holds keep-alive or peer sharing. Applications are grouped by temperature
 *   (established: keep-alive, peer sharing; hot: chain-sync, block-fetch, tx-submission) and started
 *   and stopped per group, as the peer state actions do (`startInitiators`, `stopInitiators`).
 * - Responder side: responders (inputs, see protocols/responders.ts) start on demand when the
 *   remote's first segment for them arrives, and again after they ended; `responderStart`,
 *   `responderEnd` and `responderError` events carry the protocol and its temperature, which is
 *   what the inbound governor derives the remote's temperature from.
 * - The negotiated version, the agreed version data and the data flow (duplex iff both sides run
 *   initiator and responder), the provenance (who dialled), and close (FIN) / abort (RST).
 *
 * `openConnection` runs the handshake on a bearer (TCP or in memory) and returns the connection.
 */
import { EventEmitter } from 'node:events';
import { formatEndpoint } from '../lib/address.js';
import { type Clock, type Millis, sleep, systemClock } from '../lib/clock.js';
import { InterruptedError } from '../lib/errors.js';
import type { RefuseReason, VersionData } from './codec/handshake.js';
import type { PeerAddress } from './codec/peer-sharing.js';
import type { Point, Tip } from './codec/point.js';
import { NetError } from './errors.js';
import { type HandshakeRole, protocolsFor, type QueriedVersion, runHandshake } from './handshake.js';
import { Protocol, SDU_TIMEOUT_MS } from './mux/limits.js';
import { Mux, type MuxOptions, type Role } from './mux/mux.js';
import { BlockFetchClient } from './protocols/block-fetch/client.js';
import { ChainSyncClient, type ChainSyncEvent, type PeerTip } from './protocols/chain-sync/client.js';
import { KeepAliveClient } from './protocols/keep-alive/client.js';
import { PeerSharingClient } from './protocols/peer-sharing/client.js';
import {
  type ClientContext,
  type ResponderContext,
  type Responders,
  type Temperature,
  temperatureOf,
} from './protocols/types.js';
import type { Bearer, Endpoint } from './transport/bearer.js';

export type Provenance = 'outbound' | 'inbound';
export type DataFlow = 'duplex' | 'unidirectional';

/** An initiator application: runs on the connection until `stop` fires (then ends its protocol) or it fails. */
export type InitiatorApp<R = unknown> = (conn: Connection, stop: AbortSignal) => Promise<R>;

export type InitiatorOutcome =
  | { protocol: number; temperature: Temperature; status: 'returned'; value: unknown }
  | { protocol: number; temperature: Temperature; status: 'errored'; error: Error };

export type InitiatorStatus = 'running' | 'returned' | 'errored';

export interface ConnectionEvents {
  /** A responder started on demand (the remote sent its first segment for it). */
  responderStart: [protocol: number, temperature: Temperature];
  /** A responder ended cleanly (the remote sent its protocol's done message). */
  responderEnd: [protocol: number, temperature: Temperature];
  /** A responder broke the protocol or timed out; the connection ends with `error`. */
  responderError: [protocol: number, temperature: Temperature, error: NetError];
  initiatorStart: [protocol: number, temperature: Temperature];
  initiatorEnd: [protocol: number, temperature: Temperature];
  initiatorError: [protocol: number, temperature: Temperature, error: NetError];
  /** An application started with `startInitiators` finished. */
  initiatorResult: [outcome: InitiatorOutcome];
  /** The connection is gone: undefined after a clean close, the error otherwise. */
  close: [error: NetError | undefined];
}

export interface ConnectionOptions {
  provenance: Provenance;
  version: number;
  /** The agreed (combined) version data. */
  versionData: VersionData;
  handshakeMs: number;
  connectMs?: number;
  /** The peer as dialled (default the bearer's remote address). */
  peer?: Endpoint;
  /** Started on demand when we run responders (inbound, or duplex). Default: none. */
  responders?: Responders;
  /** Cancels the connection (Ctrl-C); errors after it are reported as its reason. */
  signal?: AbortSignal | undefined;
  /** Keep-alive cookies and the chain-sync must-reply draw (default Math.random). */
  random?: () => number;
}

/** The client API of a connection, as `spo ping`, `spo probe` and the tests use it. */
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

interface Client {
  readonly finished: boolean;
  readonly busy: boolean;
  done(): Promise<void>;
}

interface Group {
  stop: AbortController;
  runs: Map<number, InitiatorStatus>;
  done: Map<number, Promise<InitiatorOutcome>>;
}

/** How long a graceful close waits for goodbyes and the peer's FIN before releasing the connection. */
export const CLOSE_TIMEOUT_MS = 2000;
/** The node's limits for stopping protocols: hot ones on deactivation, all on close (governor.md §3.2). */
export const DEACTIVATE_TIMEOUT_MS = 300_000;
export const CLOSE_CONNECTION_TIMEOUT_MS = 120_000;

export class Connection extends EventEmitter<ConnectionEvents> implements PeerConnection {
  readonly clock: Clock;
  readonly where: string;
  readonly host: string;
  readonly port: number;
  readonly local: Endpoint | undefined;
  readonly remote: Endpoint | undefined;
  readonly provenance: Provenance;
  readonly version: number;
  readonly versionData: VersionData;
  /** Duplex iff both sides run initiator and responder (the agreed diffusion mode). */
  readonly dataFlow: DataFlow;
  readonly handshakeMs: number;
  readonly connectMs: number;
  /** Mini-protocols this connection carries (the agreed bundle). */
  readonly protocols: readonly number[];
  /** We run initiator protocols here: we dialled, or the connection is duplex. */
  readonly runsInitiators: boolean;
  /** We run responders here: the peer dialled, or the connection is duplex. */
  readonly runsResponders: boolean;
  private readonly clients = new Map<number, Client>();
  private readonly groups = new Map<Temperature, Group>();
  private readonly ctx: ClientContext;
  private readonly responderCtx: ResponderContext;

  constructor(
    readonly mux: Mux,
    o: ConnectionOptions,
  ) {
    super();
    this.clock = mux.clock;
    this.local = mux.bearer.local;
    this.remote = o.peer ?? mux.bearer.remote;
    this.host = this.remote?.host ?? '?';
    this.port = this.remote?.port ?? 0;
    this.where = formatEndpoint({ host: this.host, port: this.port });
    this.provenance = o.provenance;
    this.version = o.version;
    this.versionData = o.versionData;
    this.dataFlow = o.versionData.initiatorOnly ? 'unidirectional' : 'duplex';
    this.handshakeMs = o.handshakeMs;
    this.connectMs = o.connectMs ?? 0;
    this.protocols = protocolsFor(o.versionData);
    this.runsInitiators = o.provenance === 'outbound' || this.dataFlow === 'duplex';
    this.runsResponders = o.provenance === 'inbound' || this.dataFlow === 'duplex';
    const signal = o.signal;
    this.ctx = {
      where: this.where,
      clock: this.clock,
      random: o.random ?? Math.random,
      signal,
      fail: (e) => mux.fail(e),
    };
    this.responderCtx = { clock: this.clock, remote: this.remote, version: o.version, versionData: o.versionData };

    mux.on('protocolStart', (p, role) => this.protocolEvent('Start', p, role));
    mux.on('protocolEnd', (p, role) => this.protocolEvent('End', p, role));
    mux.on('protocolError', (p, role, e) => {
      const err = e instanceof NetError ? e : new NetError('PROTOCOL_ERROR', e.message);
      if (p === Protocol.handshake) return;
      if (role === 'responder') this.emit('responderError', p, temperatureOf(p), err);
      else this.emit('initiatorError', p, temperatureOf(p), err);
    });
    mux.on('close', (e) => this.emit('close', e));
    if (signal) {
      const onAbort = (): void => mux.abort();
      if (signal.aborted) mux.abort();
      else signal.addEventListener('abort', onAbort, { once: true });
      void mux.closed.then(() => signal.removeEventListener('abort', onAbort));
    }

    mux.enable(this.protocols);
    mux.setSduTimeout(SDU_TIMEOUT_MS);
    if (this.runsResponders) {
      for (const p of this.protocols) {
        const responder = o.responders?.[p];
        if (responder) mux.respondOnDemand(p, (ch) => void responder(ch, this.responderCtx));
      }
    }
    // Segments that arrived with the handshake answer go to the protocols now set up.
    mux.release();
  }

  get closed(): Promise<NetError | undefined> {
    return this.mux.closed;
  }

  get isClosed(): boolean {
    return this.mux.isClosed;
  }

  // --- initiator side -------------------------------------------------------------------------

  get keepAliveClient(): KeepAliveClient {
    return this.client(Protocol.keepAlive, (ch) => new KeepAliveClient(ch, this.ctx));
  }

  get chainSyncClient(): ChainSyncClient {
    return this.client(Protocol.chainSync, (ch) => new ChainSyncClient(ch, this.ctx));
  }

  get peerSharingClient(): PeerSharingClient {
    return this.client(Protocol.peerSharing, (ch) => new PeerSharingClient(ch, this.ctx));
  }

  get blockFetchClient(): BlockFetchClient {
    return this.client(Protocol.blockFetch, (ch) => new BlockFetchClient(ch, this.ctx));
  }

  /** The client of `protocol`: the running instance, or a new one once the last said done. */
  private client<C extends Client>(protocol: number, make: (ch: ReturnType<Mux['channel']>) => C): C {
    const have = this.clients.get(protocol);
    if (have && !have.finished) return have as C;
    if (!this.runsInitiators) {
      throw new NetError(
        'PROTOCOL_ERROR',
        `${this.where}: the connection is inbound from an initiator-only peer: it carries none of our initiator protocols`,
      );
    }
    if (!this.protocols.includes(protocol)) {
      throw new NetError(
        'PROTOCOL_ERROR',
        protocol === Protocol.peerSharing
          ? `${this.where}: peer sharing was not agreed in the handshake`
          : `${this.where}: mini-protocol ${protocol} was not agreed in the handshake`,
      );
    }
    const c = make(this.mux.channel(protocol, 'initiator'));
    this.clients.set(protocol, c);
    return c;
  }

  keepAlive(cookie?: number, timeoutMs?: number): Promise<number> {
    try {
      return this.keepAliveClient.roundTrip(cookie, timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  findTip(options: { timeoutMs?: number } = {}): Promise<PeerTip & { rttMs: number }> {
    try {
      return this.chainSyncClient.findTip(options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  sharePeers(amount: number, options: { timeoutMs?: number } = {}): Promise<PeerAddress[]> {
    try {
      return this.peerSharingClient.share(amount, options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async findIntersect(
    points: Point[],
    options: { timeoutMs?: number } = {},
  ): Promise<{ found: boolean; point: Point; tip: Tip }> {
    const { found, point, tip } = await this.chainSyncClient.findIntersect(points, options);
    return { found, point, tip };
  }

  requestNext(options: { timeoutMs?: number } = {}): Promise<ChainSyncEvent> {
    try {
      return this.chainSyncClient.requestNext(options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Starts the applications of one temperature group (e.g. hot: chain-sync, block-fetch), one per
   * protocol, with a stop signal shared by the group. Each result is reported by `initiatorResult`.
   */
  startInitiators(temperature: Temperature, apps: Readonly<Partial<Record<number, InitiatorApp>>>): void {
    let group = this.groups.get(temperature);
    if (!group || group.stop.signal.aborted) {
      group = { stop: new AbortController(), runs: new Map(), done: new Map() };
      this.groups.set(temperature, group);
    }
    const g = group;
    for (const [key, app] of Object.entries(apps)) {
      const protocol = Number(key);
      if (!app) continue;
      if (temperatureOf(protocol) !== temperature) {
        throw new RangeError(`mini-protocol ${protocol} is ${temperatureOf(protocol)}, not ${temperature}`);
      }
      if (g.runs.get(protocol) === 'running') {
        throw new NetError('PROTOCOL_ERROR', `${this.where}: mini-protocol ${protocol} already runs`);
      }
      g.runs.set(protocol, 'running');
      const done = (async (): Promise<InitiatorOutcome> => {
        try {
          const value = await app(this, g.stop.signal);
          g.runs.set(protocol, 'returned');
          return { protocol, temperature, status: 'returned', value };
        } catch (e) {
          g.runs.set(protocol, 'errored');
          return { protocol, temperature, status: 'errored', error: e instanceof Error ? e : new Error(String(e)) };
        }
      })();
      g.done.set(protocol, done);
      void done.then((outcome) => this.emit('initiatorResult', outcome));
    }
  }

  /**
   * Asks the applications of a temperature group to stop and waits for all of them. Those still
   * running after `timeoutMs` are ended with the connection (as the node stops the mux on a
   * deactivation timeout), so their outcomes are errors.
   */
  async stopInitiators(
    temperature: Temperature,
    timeoutMs: Millis = DEACTIVATE_TIMEOUT_MS,
  ): Promise<InitiatorOutcome[]> {
    const g = this.groups.get(temperature);
    if (!g) return [];
    g.stop.abort();
    const all = Promise.all(g.done.values());
    const timer = this.clock.setTimer(timeoutMs, () => {
      if ([...g.runs.values()].includes('running')) {
        this.mux.fail(
          new NetError(
            'PROTOCOL_TIMEOUT',
            `${this.where}: ${temperature} protocols did not stop within ${timeoutMs} ms`,
          ),
        );
      }
    });
    try {
      return await all;
    } finally {
      timer.cancel();
    }
  }

  /** The applications of a group and where they are. */
  initiatorStatus(temperature: Temperature): ReadonlyMap<number, InitiatorStatus> {
    return new Map(this.groups.get(temperature)?.runs ?? []);
  }

  // --- close ------------------------------------------------------------------------------------

  /**
   * Clean close: MsgDone on every client that is idle, then FIN. Resolves when the peer closed too,
   * or after `timeoutMs`, when the connection is released under it.
   */
  async close(timeoutMs: Millis = CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.mux.isClosed) return;
    const started = this.clock.now();
    const goodbyes = [...this.clients.values()].filter((c) => !c.finished && !c.busy).map((c) => c.done());
    if (goodbyes.length > 0) {
      // The wait's timer goes when the goodbyes win, so a closed connection leaves no timer behind.
      const waited = new AbortController();
      try {
        await Promise.race([Promise.all(goodbyes), sleep(this.clock, timeoutMs, waited.signal).catch(() => undefined)]);
      } finally {
        waited.abort();
      }
    }
    // One budget for the whole close: what the goodbyes used is not given to the mux again.
    await this.mux.close(Math.max(0, timeoutMs - (this.clock.now() - started)));
  }

  /** Abortive close: TCP RST, nothing queued is sent. */
  abort(): void {
    this.mux.abort();
  }

  /** The connection no longer keeps the process alive (a command that has its result exits). */
  unref(): void {
    this.mux.unref();
  }

  private protocolEvent(kind: 'Start' | 'End', protocol: number, role: Role): void {
    if (protocol === Protocol.handshake) return;
    const t = temperatureOf(protocol);
    if (role === 'responder') this.emit(kind === 'Start' ? 'responderStart' : 'responderEnd', protocol, t);
    else this.emit(kind === 'Start' ? 'initiatorStart' : 'initiatorEnd', protocol, t);
  }
}

export interface OpenConnectionOptions {
  /** Proposer when we dialled (outbound), acceptor when the peer did (inbound). */
  role: HandshakeRole;
  versions: readonly number[];
  /** Our version data: magic, diffusion mode, peer sharing, query. */
  data: VersionData;
  handshakeTimeoutMs?: Millis;
  clock?: Clock;
  mux?: Omit<MuxOptions, 'clock'>;
  responders?: Responders;
  /** The peer as dialled (default the bearer's remote address); names it in errors. */
  peer?: Endpoint;
  connectMs?: number;
  signal?: AbortSignal | undefined;
  random?: () => number;
}

export type OpenResult =
  | { kind: 'connected'; connection: Connection }
  /** Proposer: the peer's version table (the connection is closed). Acceptor: we answered a query. */
  | { kind: 'query'; versions: QueriedVersion[]; handshakeMs: number; mux: Mux }
  /** Acceptor: we refused the proposal (the connection is closing). */
  | { kind: 'refused'; reason: RefuseReason; handshakeMs: number; mux: Mux };

/**
 * Runs the handshake on a bearer (or on a fresh mux over one, when the caller tracks it from the
 * start) and returns the negotiated connection. Failures are NetErrors
 * naming the stage (HANDSHAKE_*, PROTOCOL_ERROR); the bearer is reset on any failure.
 */
export async function openConnection(on: Bearer | Mux, o: OpenConnectionOptions): Promise<OpenResult> {
  const mux = on instanceof Mux ? on : new Mux(on, { ...o.mux, clock: o.clock ?? systemClock });
  const peer = o.peer ?? mux.bearer.remote;
  const where = peer ? formatEndpoint(peer) : 'peer';
  const onAbort = (): void => mux.abort();
  if (o.signal?.aborted) {
    mux.abort();
    throw o.signal.reason instanceof Error ? o.signal.reason : new InterruptedError();
  }
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await runHandshake(
      mux,
      o.role,
      {
        versions: o.versions,
        data: o.data,
        ...(o.handshakeTimeoutMs === undefined ? {} : { timeoutMs: o.handshakeTimeoutMs }),
      },
      where,
      o.signal,
    );
    if (r.kind === 'query') {
      if (o.role === 'proposer') mux.abort();
      return { kind: 'query', versions: r.versions, handshakeMs: r.handshakeMs, mux };
    }
    if (r.kind === 'refused') return { kind: 'refused', reason: r.reason, handshakeMs: r.handshakeMs, mux };
    const connection = new Connection(mux, {
      provenance: o.role === 'proposer' ? 'outbound' : 'inbound',
      version: r.version,
      versionData: r.versionData,
      handshakeMs: r.handshakeMs,
      ...(o.connectMs === undefined ? {} : { connectMs: o.connectMs }),
      ...(peer ? { peer } : {}),
      ...(o.responders ? { responders: o.responders } : {}),
      signal: o.signal,
      ...(o.random ? { random: o.random } : {}),
    });
    return { kind: 'connected', connection };
  } catch (e) {
    mux.abort();
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
