/**
 * The server's accept rate limiting and accept-error policy, pure (governor.md §9; the
 * reference's `Ouroboros.Network.Server.RateLimiting` and the accept loop of `Server.hs`). The
 * shell's accept loop asks `acceptDelay` before every accept, with the connection manager's
 * inbound count, and `acceptErrorPolicy` when accept fails.
 */
import type { Millis } from '../../lib/clock.js';

export interface AcceptedConnectionsLimit {
  /** No accepts at or above this many inbound connections. */
  hard: number;
  /** Accepts slow down from this many on. */
  soft: number;
  /** The delay reached at the hard limit, and the least total pause once there. */
  delay: Millis;
}

/** cardano-node's default (`defaultAcceptedConnectionsLimit`): 512 / 384 / 5 s. */
export const DEFAULT_ACCEPTED_CONNECTIONS_LIMIT: AcceptedConnectionsLimit = { hard: 512, soft: 384, delay: 5_000 };

/** The pause after ECONNABORTED (`server_CONNABORTED_DELAY`). */
export const CONNABORTED_DELAY: Millis = 500;

export type AcceptGate =
  /** Accept after `delay` ms (0 below the soft limit; a linear ramp between soft and hard). */
  | { kind: 'delay'; delay: Millis }
  /**
   * At or above the hard limit: wait until the inbound count is below it, and until at least
   * `minPause` ms have passed since the loop started waiting (no flapping on the last slot).
   */
  | { kind: 'block'; minPause: Millis };

/** What the accept loop does before its next accept with `inbound` inbound connections. */
export function acceptGate(inbound: number, limit: AcceptedConnectionsLimit): AcceptGate {
  // the reference's order: below soft wins even over a (misconfigured) hard limit below soft
  if (inbound < limit.soft) return { kind: 'delay', delay: 0 };
  if (inbound >= limit.hard) return { kind: 'block', minPause: limit.delay };
  return { kind: 'delay', delay: ((inbound - limit.soft) * limit.delay) / Math.max(1, limit.hard - limit.soft) };
}

/**
 * After a block: how much longer to wait once the count fell below the hard limit at `now`,
 * having started waiting at `since`.
 */
export function remainingPause(since: Millis, now: Millis, limit: AcceptedConnectionsLimit): Millis {
  return Math.max(0, since + limit.delay - now);
}

export type AcceptErrorAction =
  | { kind: 'pause'; delay: Millis; log: boolean }
  | { kind: 'continue'; log: boolean }
  | { kind: 'stop'; code: string };

/**
 * The accept-error policy. ECONNABORTED (the client gave up before we accepted): pause 0.5 s and
 * go on, as the node does. EMFILE/ENFILE (out of file descriptors): logged and survived with the
 * same pause (issue 12); this deviates from the node, for which any other accept error is fatal.
 * Anything else ends the server.
 */
export function acceptErrorPolicy(code: string | undefined): AcceptErrorAction {
  switch (code) {
    case 'ECONNABORTED':
      return { kind: 'pause', delay: CONNABORTED_DELAY, log: false };
    case 'EMFILE':
    case 'ENFILE':
      return { kind: 'pause', delay: CONNABORTED_DELAY, log: true };
    default:
      return { kind: 'stop', code: code ?? 'UNKNOWN' };
  }
}
