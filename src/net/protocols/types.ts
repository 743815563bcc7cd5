/**
 * What the mini-protocol modules share: the temperature groups of node-to-node protocols, the
 * context a client runs in, and the shape of a responder. Clients (initiator side) and responders
 * are separate modules per protocol (`keep-alive/client.ts`, `keep-alive/responder.ts`, ...); the
 * connection object (`../connection.ts`) opens the one and starts the other on demand.
 */
import type { Clock } from '../../lib/clock.js';
import { InterruptedError } from '../../lib/errors.js';
import type { VersionData } from '../codec/handshake.js';
import { NetError } from '../errors.js';
import { Protocol } from '../mux/limits.js';
import type { Channel } from '../mux/mux.js';
import type { Endpoint } from '../transport/bearer.js';

/**
 * The temperature a mini-protocol belongs to (governor.md §1): established protocols run on every
 * warm and hot connection, hot ones only while the peer is hot; warm is empty (reserved).
 */
export type Temperature = 'established' | 'warm' | 'hot';

export const PROTOCOL_TEMPERATURE: Readonly<Record<number, Temperature>> = {
  [Protocol.chainSync]: 'hot',
  [Protocol.blockFetch]: 'hot',
  [Protocol.txSubmission]: 'hot',
  [Protocol.keepAlive]: 'established',
  [Protocol.peerSharing]: 'established',
};

export function temperatureOf(protocol: number): Temperature {
  return PROTOCOL_TEMPERATURE[protocol] ?? 'established';
}

/** What a client needs from its connection. */
export interface ClientContext {
  /** `HOST:PORT` of the peer, at the start of every error message. */
  readonly where: string;
  readonly clock: Clock;
  /** Cookies and the chain-sync must-reply draw (inject a seeded one for reproducible runs). */
  readonly random: () => number;
  /** The caller's cancellation (Ctrl-C): errors after it are reported as its reason. */
  readonly signal: AbortSignal | undefined;
  /** Ends the connection with this error (a violation found above the state machine). */
  fail(error: NetError): void;
}

/** An error as the caller should see it: the cancellation's reason after a cancel, otherwise prefixed with the peer. */
export function clientError(ctx: ClientContext, e: unknown): Error {
  if (ctx.signal?.aborted) return ctx.signal.reason instanceof Error ? ctx.signal.reason : new InterruptedError();
  if (e instanceof NetError) {
    return new NetError(e.code, e.message.startsWith(ctx.where) ? e.message : `${ctx.where}: ${e.message}`, {
      details: e.details,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** What a responder learns about the connection it serves. */
export interface ResponderContext {
  readonly clock: Clock;
  readonly remote: Endpoint | undefined;
  readonly version: number;
  /** The agreed version data. */
  readonly versionData: VersionData;
}

/**
 * A responder: serves one instance of its protocol on `channel` until the client is done or the
 * connection ends, and resolves either way (errors reach the connection through the mux). The
 * connection starts it on demand, when the first segment for it arrives, and again after it ended.
 */
export type Responder = (channel: Channel, ctx: ResponderContext) => Promise<void>;

/** Responders by mini-protocol number. */
export type Responders = Readonly<Partial<Record<number, Responder>>>;

/**
 * Runs operations of one client one at a time: a mini-protocol has one state machine, so a second
 * request waits for the first. Different protocols have their own queues and never wait on each other.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** An operation is running or waiting. */
  get busy(): boolean {
    return this.pending > 0;
  }

  run<T>(f: () => Promise<T>): Promise<T> {
    this.pending++;
    const p = this.tail.then(f, f).finally(() => {
      this.pending--;
    });
    this.tail = p.catch(() => undefined);
    return p;
  }
}
