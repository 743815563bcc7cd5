/**
 * How the peer state actions (peer-state-actions.ts) get and give back outbound connections: the
 * slice of the connection manager they use (governor.md §8.4: `acquireOutboundConnection`,
 * `releaseOutboundConnection`, `waitForOutboundDemotion`), as a small interface: `CmConnector`
 * over the connection manager's shell for the live node; `DirectConnector` dials every time (no
 * reuse, no time-wait), for a shell without a connection manager and for the tests.
 */
import type { DiffusionMode, Peer } from '../governor/types.js';
import { formatEndpoint } from '../lib/address.js';
import { type Clock, type Millis, systemClock } from '../lib/clock.js';
import { SpoError } from '../lib/errors.js';
import { DEFAULT_VERSIONS, type VersionData } from '../net/codec/handshake.js';
import { CLOSE_TIMEOUT_MS, type Connection, openConnection } from '../net/connection.js';
import { NetError } from '../net/errors.js';
import { nodeResponders } from '../net/protocols/responders.js';
import type { Responders } from '../net/protocols/types.js';
import type { Endpoint } from '../net/transport/bearer.js';
import { tcpConnectFrom } from '../net/transport/reuse-port.js';
import { tcpConnect } from '../net/transport/tcp.js';
import { type AcquireError, type ConnId, peerState } from './connection-manager/core.js';
import type { ConnectionManager } from './connection-manager/shell.js';

/** The connection manager's handshake limit (§11: 10 s per state). */
export const HANDSHAKE_TIMEOUT_MS: Millis = 10_000;
/**
 * The node sets no connect timeout of its own (the kernel's SYN retries, about two minutes on
 * Linux); spo bounds every network wait, with the handshake's 10 s.
 */
export const CONNECT_TIMEOUT_MS: Millis = 10_000;

export interface AcquireRequest {
  /** The peer as the governor knows it. */
  peer: Peer;
  /** Its address, resolved. */
  address: Endpoint;
  diffusionMode: DiffusionMode;
  /** Only reuse an inbound connection of this peer, never dial it. */
  behindFirewall: boolean;
}

/** What the peer state actions need from the connection manager. */
export interface OutboundConnector {
  /**
   * An outbound connection to the peer: dialled and negotiated, or an inbound duplex one reused.
   * Rejects with a NetError naming the stage (CONNECT_*, HANDSHAKE_*) or the manager's refusal.
   */
  acquire(request: AcquireRequest): Promise<Connection>;
  /**
   * We no longer use `connection` as outbound (every initiator protocol ended). Resolves once the
   * manager took it back; the connection may live on for the remote's use (duplex) or its time-wait.
   */
  release(connection: Connection): Promise<void>;
  /**
   * Resolves once the manager no longer holds `connection` for outbound use, time-wait included
   * (`waitForOutboundDemotion`): the peer is then cold.
   */
  demoted(connection: Connection): Promise<void>;
}

export interface DirectConnectorOptions {
  magic: number;
  clock?: Clock;
  versions?: readonly number[];
  /** Offer peer sharing in the handshake (default true). */
  peerSharing?: boolean;
  /**
   * Our listening address per family: dial from it (SO_REUSEPORT, src/net/transport/reuse-port.ts)
   * in InitiatorAndResponder mode, so the remote sees the address it can reuse. Default: dial from
   * an ephemeral port.
   */
  localAddress?: (family: 4 | 6) => Endpoint | undefined;
  /** Answered on a duplex connection (default: the node responders over an empty chain). */
  responders?: Responders;
  connectTimeoutMs?: Millis;
  handshakeTimeoutMs?: Millis;
  random?: () => number;
}

const familyOf = (host: string): 4 | 6 => (host.includes(':') ? 6 : 4);

/** Dials every acquire (no reuse); a release closes the connection, which is then cold at once. */
export class DirectConnector implements OutboundConnector {
  private readonly clock: Clock;

  constructor(private readonly o: DirectConnectorOptions) {
    this.clock = o.clock ?? systemClock;
  }

  async acquire(r: AcquireRequest): Promise<Connection> {
    if (r.behindFirewall) {
      throw new NetError('CONNECT_FAILED', `${r.peer}: behind a firewall, and no inbound connection to reuse`);
    }
    const duplex = r.diffusionMode === 'InitiatorAndResponder';
    const local = duplex ? this.o.localAddress?.(familyOf(r.address.host)) : undefined;
    const timeoutMs = this.o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    const { bearer, connectMs } = local
      ? await tcpConnectFrom({ local, host: r.address.host, port: r.address.port, timeoutMs, clock: this.clock })
      : await tcpConnect({ host: r.address.host, port: r.address.port, timeoutMs, clock: this.clock });
    const data: VersionData = {
      networkMagic: this.o.magic,
      initiatorOnly: !duplex,
      peerSharing: this.o.peerSharing === false ? 0 : 1,
      query: false,
      perasSupport: false,
    };
    const result = await openConnection(bearer, {
      role: 'proposer',
      versions: this.o.versions ?? DEFAULT_VERSIONS,
      data,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      clock: this.clock,
      peer: r.address,
      connectMs,
      responders: this.o.responders ?? nodeResponders(),
      ...(this.o.random ? { random: this.o.random } : {}),
    });
    if (result.kind === 'connected') return result.connection;
    result.mux.abort();
    throw new NetError('PROTOCOL_ERROR', `${r.peer}: unexpected handshake reply`);
  }

  async release(connection: Connection): Promise<void> {
    await connection.close(CLOSE_TIMEOUT_MS);
  }

  async demoted(connection: Connection): Promise<void> {
    await connection.closed;
  }
}

/**
 * The peer state actions' connector over the connection manager's shell
 * (src/node/connection-manager/shell.ts): acquire = `acquireOutbound` (a dial, or an inbound duplex
 * connection of the same peer address reused), release = `releaseOutbound`, demoted =
 * `waitForOutboundDemotion`. The node's diffusion mode is the manager's (its handshake data), so
 * the mode the governor passes is not needed here.
 */
export class CmConnector implements OutboundConnector {
  private readonly ids = new WeakMap<Connection, ConnId>();

  constructor(private readonly cm: ConnectionManager) {}

  async acquire(r: AcquireRequest): Promise<Connection> {
    const key = formatEndpoint(r.address);
    if (r.behindFirewall) {
      // Never dialled: only an inbound duplex connection of the peer can be reused (§8.4).
      const st = peerState(this.cm.state.cm, key);
      if (st !== 'InboundIdleDup' && st !== 'InboundDup') {
        throw new NetError('CONNECT_FAILED', `${r.peer}: behind a firewall, and no inbound duplex connection to reuse`);
      }
    }
    const a = await this.cm.acquireOutbound(r.address);
    if (a.kind === 'connected') {
      this.ids.set(a.connection, a.conn);
      return a.connection;
    }
    if (a.kind === 'disconnected') {
      if (a.cause) throw a.cause;
      throw new NetError('CONNECTION_CLOSED', `${r.peer}: ${a.reason}`);
    }
    // ConnectionExists / ForbiddenOperation / ForbiddenConnection: the manager's refusal, by name.
    throw new AcquireRefused(a.error, `${r.peer}: the connection manager answered ${a.error}`);
  }

  async release(connection: Connection): Promise<void> {
    const id = this.ids.get(connection);
    if (id !== undefined) this.cm.releaseOutbound(id);
  }

  demoted(connection: Connection): Promise<void> {
    const id = this.ids.get(connection);
    return id === undefined ? connection.closed.then(() => undefined) : this.cm.waitForOutboundDemotion(id);
  }
}

/** The connection manager refused an acquire (its `AcquireError`, as the error's code). */
export class AcquireRefused extends SpoError {
  constructor(code: AcquireError, message: string) {
    super(code, message);
    this.name = 'AcquireRefused';
  }
}
