/**
 * The server's shell (governor.md §9): one accept loop per listening socket (IPv4 and IPv6 alike),
 * all handing sockets to one connection manager, rate-limited by the pure `acceptGate` against the
 * manager's inbound count: no delay below the soft limit, a linearly growing delay between soft and
 * hard, and at or above hard no accepts until the count is below hard again and the pause has
 * lasted at least the configured delay. The hard limit is re-checked by the connection manager's
 * core when the socket is handed over. Accept errors follow `acceptErrorPolicy`: ECONNABORTED and
 * EMFILE/ENFILE are survived (traced, 0.5 s pause, the loop goes on), any other one ends the server
 * with `ACCEPT_FAILED`.
 *
 * Node's `net.Server` (libuv) accepts from the kernel as fast as connections come and has no way to
 * stop reading the accept queue short of closing the listener. So "accept" here is the hand-over:
 * sockets libuv accepted wait, paused (nothing is read from them, so a client's handshake sits in
 * the kernel's buffer as it would in the node's backlog), in a queue per listener bounded by
 * `queueLimit`; beyond it a new socket is reset at once (what a full backlog means to a client).
 */
import { EventEmitter } from 'node:events';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { formatEndpoint } from '../../lib/address.js';
import { type Clock, type Millis, sleep, systemClock } from '../../lib/clock.js';
import { NetError } from '../../net/errors.js';
import type { Bearer, Endpoint } from '../../net/transport/bearer.js';
import { listenReusePort, reusePortSupported } from '../../net/transport/reuse-port.js';
import { TcpBearer } from '../../net/transport/tcp.js';
import type { IncludeResult } from '../connection-manager/core.js';
import {
  type AcceptedConnectionsLimit,
  acceptErrorPolicy,
  acceptGate,
  DEFAULT_ACCEPTED_CONNECTIONS_LIMIT,
  remainingPause,
} from './rate-limit.js';

/** What the accept loops need of the connection manager (its shell implements it). */
export interface InboundTarget {
  readonly inboundConns: number;
  includeInbound(bearer: Bearer): IncludeResult;
  on(event: 'inbound', listener: (count: number) => void): unknown;
  off(event: 'inbound', listener: (count: number) => void): unknown;
}

export type ServerTrace =
  | { type: 'listening'; address: string }
  | { type: 'acceptDelay'; address: string; inbound: number; delay: Millis }
  | { type: 'acceptBlocked'; address: string; inbound: number }
  | { type: 'acceptResumed'; address: string; inbound: number; pausedMs: Millis }
  | { type: 'accepted'; address: string; peer: string; inbound: number; queued: number; included: boolean }
  | { type: 'queueFull'; address: string; peer: string; queued: number }
  | { type: 'acceptError'; address: string; code: string; action: 'pause' | 'stop' }
  | { type: 'stopped'; address: string; error: string | undefined };

export interface ServerEvents {
  trace: [event: ServerTrace, at: Millis];
}

export interface AcceptLoopOptions {
  target: InboundTarget;
  /** Addresses to listen on, all on `port` (0 = a free port, the same for all). */
  hosts: readonly string[];
  port: number;
  limit?: AcceptedConnectionsLimit;
  clock?: Clock;
  /** Accepted sockets waiting for the gate per listener (default: the hard limit). */
  queueLimit?: number;
  /** Wraps an accepted socket (default `TcpBearer`; tests wrap it to misbehave). */
  bearer?: (socket: Socket) => Bearer;
  /**
   * Takes a socket before the manager does (a test-only fault server); return true when taken.
   */
  intercept?: (socket: Socket) => boolean;
  /**
   * Listen on a SO_REUSEPORT socket when available, so that outbound sockets can be bound to the
   * listening address (duplex reuse; src/net/transport/reuse-port.ts). Default false.
   */
  reusePort?: boolean;
  /** Makes `server` listen (overrides `reusePort`). */
  listen?: (server: Server, host: string, port: number) => Promise<void>;
}

export interface NodeServer {
  readonly addresses: readonly Endpoint[];
  readonly port: number;
  readonly events: EventEmitter<ServerEvents>;
  /** The listening sockets (one per host). */
  readonly servers: readonly Server[];
  /** Resolves when closed; rejects with `ACCEPT_FAILED` when an accept error ended the server. */
  readonly done: Promise<void>;
  /** Sockets accepted by the kernel and waiting for the gate. */
  queued(): number;
  close(): Promise<void>;
}

function defaultListen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: isIPv6(host) }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

interface Listener {
  server: Server;
  address: string;
  queue: Socket[];
  wake: (() => void) | undefined;
}

export async function startAcceptLoops(o: AcceptLoopOptions): Promise<NodeServer> {
  const clock = o.clock ?? systemClock;
  const limit = o.limit ?? DEFAULT_ACCEPTED_CONNECTIONS_LIMIT;
  const queueLimit = o.queueLimit ?? limit.hard;
  const makeBearer = o.bearer ?? ((s: Socket) => new TcpBearer(s));
  const listen =
    o.listen ??
    (o.reusePort && reusePortSupported().supported
      ? (server: Server, host: string, port: number) => listenReusePort(server, { host, port })
      : defaultListen);
  const events = new EventEmitter<ServerEvents>();
  const stop = new AbortController();
  const trace = (e: ServerTrace): void => {
    events.emit('trace', e, clock.now());
  };
  let failed: NetError | undefined;
  let finish!: () => void;
  let fail!: (e: NetError) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // a caller that only closes never sees an unhandled rejection
  done.catch(() => undefined);
  let pauseUntil: Millis = 0;

  const listeners: Listener[] = [];
  let port = o.port;
  try {
    for (const host of o.hosts) {
      const server = createServer({ pauseOnConnect: true, noDelay: true });
      const l: Listener = { server, address: host, queue: [], wake: undefined };
      server.on('connection', (socket: Socket) => {
        if (stop.signal.aborted) {
          socket.resetAndDestroy();
          return;
        }
        if (o.intercept?.(socket)) return;
        if (l.queue.length >= queueLimit) {
          trace({
            type: 'queueFull',
            address: l.address,
            peer: formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }),
            queued: l.queue.length,
          });
          socket.on('error', () => undefined);
          socket.resetAndDestroy();
          return;
        }
        socket.on('error', () => undefined);
        l.queue.push(socket);
        const w = l.wake;
        l.wake = undefined;
        w?.();
      });
      await listen(server, host, port);
      const a = server.address();
      if (a && typeof a === 'object') {
        port = a.port;
        l.address = formatEndpoint({ host: a.address, port: a.port });
      }
      server.on('error', (e: NodeJS.ErrnoException) => onError(l, e));
      listeners.push(l);
      trace({ type: 'listening', address: l.address });
    }
  } catch (e) {
    for (const l of listeners) l.server.close();
    throw e;
  }

  function onError(l: Listener, e: NodeJS.ErrnoException): void {
    const policy =
      e.syscall === 'accept' ? acceptErrorPolicy(e.code) : { kind: 'stop' as const, code: e.code ?? 'UNKNOWN' };
    if (policy.kind === 'pause' || policy.kind === 'continue') {
      trace({ type: 'acceptError', address: l.address, code: e.code ?? '?', action: 'pause' });
      if (policy.kind === 'pause') pauseUntil = Math.max(pauseUntil, clock.now() + policy.delay);
      return;
    }
    trace({ type: 'acceptError', address: l.address, code: policy.code, action: 'stop' });
    failed = new NetError(
      'ACCEPT_FAILED',
      `${l.address}: accepting connections failed: ${policy.code} (${e.message})`,
      {
        hint:
          policy.code === 'EMFILE' || policy.code === 'ENFILE'
            ? 'out of file descriptors: raise the limit (ulimit -n) or lower the accepted connections limit'
            : 'the listening socket is unusable; restart the server',
        details: { errno: policy.code },
      },
    );
    void shutdown();
  }

  /** Resolves when the inbound count is below the hard limit (or the server stops). */
  function belowHard(): Promise<void> {
    if (o.target.inboundConns < limit.hard || stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (n: number): void => {
        if (n < limit.hard) {
          o.target.off('inbound', check);
          stop.signal.removeEventListener('abort', onStop);
          resolve();
        }
      };
      const onStop = (): void => {
        o.target.off('inbound', check);
        resolve();
      };
      o.target.on('inbound', check);
      stop.signal.addEventListener('abort', onStop, { once: true });
    });
  }

  function nextSocket(l: Listener): Promise<Socket | undefined> {
    const s = l.queue.shift();
    if (s || stop.signal.aborted) return Promise.resolve(s);
    return new Promise((resolve) => {
      l.wake = () => resolve(l.queue.shift());
    });
  }

  async function loop(l: Listener): Promise<void> {
    while (!stop.signal.aborted) {
      // the rate limit runs before every accept, on the manager's inbound count (§9)
      const gate = acceptGate(o.target.inboundConns, limit);
      if (gate.kind === 'block') {
        const since = clock.now();
        trace({ type: 'acceptBlocked', address: l.address, inbound: o.target.inboundConns });
        await belowHard();
        await sleep(clock, remainingPause(since, clock.now(), limit), stop.signal).catch(() => undefined);
        if (stop.signal.aborted) break;
        trace({
          type: 'acceptResumed',
          address: l.address,
          inbound: o.target.inboundConns,
          pausedMs: clock.now() - since,
        });
      } else if (gate.delay > 0) {
        trace({ type: 'acceptDelay', address: l.address, inbound: o.target.inboundConns, delay: gate.delay });
        await sleep(clock, gate.delay, stop.signal).catch(() => undefined);
      }
      if (pauseUntil > clock.now()) await sleep(clock, pauseUntil - clock.now(), stop.signal).catch(() => undefined);
      const socket = await nextSocket(l);
      if (socket === undefined || stop.signal.aborted) {
        socket?.resetAndDestroy();
        break;
      }
      const peer = formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
      if (socket.destroyed) continue;
      const r = o.target.includeInbound(makeBearer(socket));
      if (r.kind === 'included') socket.resume();
      trace({
        type: 'accepted',
        address: l.address,
        peer,
        inbound: o.target.inboundConns,
        queued: l.queue.length,
        included: r.kind === 'included',
      });
    }
  }

  const loops = listeners.map((l) => loop(l));

  async function shutdown(): Promise<void> {
    if (stop.signal.aborted) return;
    stop.abort();
    for (const l of listeners) {
      const w = l.wake;
      l.wake = undefined;
      w?.();
    }
    for (const l of listeners) {
      for (const s of l.queue.splice(0)) s.resetAndDestroy();
      // stops listening now; the handle goes once the manager has closed the sockets it holds
      l.server.close();
    }
    await Promise.all(loops);
    for (const l of listeners) trace({ type: 'stopped', address: l.address, error: failed?.code });
    if (failed) fail(failed);
    else finish();
  }

  return {
    addresses: listeners.map((l) => {
      const a = l.server.address();
      return a && typeof a === 'object' ? { host: a.address, port: a.port } : { host: l.address, port };
    }),
    port,
    events,
    servers: listeners.map((l) => l.server),
    done,
    queued: () => listeners.reduce((n, l) => n + l.queue.length, 0),
    close: shutdown,
  };
}
