/**
 * What a shell gives the governor driver (src/driver/loop.ts): the reference's `PeerStateActions`
 * (governor.md §3) and the requests behind root peers, big ledger peers and peer sharing (§6, §7).
 *
 * Every operation returns a `PromiseLike`: the live node returns real promises (the connection
 * manager resolves them when a socket, handshake or mini-protocol is done), the simulated world
 * returns `SimResult`s (src/sim/sim-result.ts) that settle synchronously at an event of the
 * scheduler, so a simulation keeps the exact order of events without waiting for microtasks. The
 * driver only calls `then(onFulfilled, onRejected)` on them; a rejection is a failure of that
 * operation (its `message`, or its `code` when it is a `SpoError`, becomes the completion's error).
 *
 * Times are milliseconds (`Millis`).
 */

import type { DiffusionMode, Peer, PeerStatus, RootPeerResult } from '../governor/types.js';
import type { Millis } from '../lib/clock.js';

/** A connection is identified by a number that grows: a status report of an older connection is stale. */
export type ConnectionId = number;

/** What an established connection told us (handshake). */
export interface Established {
  connection: ConnectionId;
  /** The remote negotiated peer sharing. */
  sharing: boolean;
}

/** A change of a connection's status that the governor did not ask for, or the end of one it asked for. */
export interface StatusChange {
  peer: Peer;
  connection: ConnectionId;
  /** `cooling`: the connection is going away (time-wait); `cold`: it is gone; `warm`/`hot` as asked. */
  status: PeerStatus;
  /**
   * The repromote delay of the exit policy (max over the finished mini-protocols, §3.3-3.4), for
   * an asynchronous demotion to warm or cold; dropped while cooling.
   */
  repromoteDelayMs?: Millis | undefined;
}

/**
 * The bridge from governor jobs to connections (`PeerStateActions`, §3.2-3.3). The connection
 * manager (§8) implements it for the live node; the simulated world for the dry run and the tests.
 */
export interface PeerStateActions {
  /**
   * cold -> warm: acquire an outbound connection (or reuse an inbound duplex one; `behindFirewall`
   * peers are only reused, never dialled), handshake, start the warm and established protocols.
   * Resolves when the connection is warm; the `warm` status is reported (`onStatus`) before.
   */
  establish(peer: Peer, mode: { diffusionMode: DiffusionMode; behindFirewall: boolean }): PromiseLike<Established>;
  /** warm -> hot: start the hot protocols. Resolves once hot (status `hot` reported before); rejects otherwise. */
  activate(peer: Peer): PromiseLike<void>;
  /**
   * hot -> warm: stop the hot protocols (≤ 300 s). Resolves once warm (status reported before);
   * rejects when the connection errors or is going away (it then reports `cooling`, later `cold`).
   */
  deactivate(peer: Peer): PromiseLike<void>;
  /**
   * warm -> cold: terminate every protocol (≤ 120 s) and release the connection. Resolves when
   * released; the status is `cooling` until the connection manager forgets the connection (after
   * its time-wait), then `cold` is reported. The driver waits for `cold` (≤ 600 s).
   */
  close(peer: Peer): PromiseLike<void>;
  /** The connection's current status (`monitorPeerConnection`, non-blocking); undefined: none. */
  status(peer: Peer): PeerStatus | undefined;
  /** Subscribes to status changes (one listener, the driver's). */
  onStatus(listener: (change: StatusChange) => void): void;
}

/** Peer sharing as a client (§7): ask one established peer for up to `amount` peers. */
export interface PeerSharingActions {
  /** Resolves with the peers it answered; rejects when it fails. The driver applies the batch timeouts. */
  requestPeers(peer: Peer, amount: number): PromiseLike<Peer[]>;
}

/** A batch of root peers and how long it is good for. */
export interface RootPeersAnswer<P> {
  peers: P[];
  /** How long before asking again when below target (the answers' TTL, clipped; §6.3-6.4). */
  ttlMs: Millis;
}

/**
 * Public root peers (§6.4): ledger peers first, the topology's public roots when the ledger gives
 * nothing, the configured bootstrap peers in the bootstrap sensitive state. Names are resolved by
 * the source (src/driver/root-peers.ts), never passed on as peers.
 */
export interface RootPeerSource {
  requestRootPeers(count: number, options: { bootstrap: boolean }): PromiseLike<RootPeersAnswer<RootPeerResult>>;
}

/** Big ledger peers (§6.4): pools with 90% of the stake, sampled linearly in stake. */
export interface BigLedgerPeerSource {
  requestBigLedgerPeers(count: number): PromiseLike<RootPeersAnswer<Peer>>;
}

/** Everything the driver performs jobs through. */
export interface DriverShell {
  peers: PeerStateActions;
  sharing: PeerSharingActions;
  rootPeers: RootPeerSource;
  bigLedgerPeers: BigLedgerPeerSource;
}

/** The error text of a rejection (an `Error`'s code when it has one, else its message). */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return String(e);
}
