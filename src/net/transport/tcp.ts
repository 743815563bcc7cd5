/**
 * TCP as a bearer: connect with a timeout that really ends the attempt (on the injected clock),
 * TCP_NODELAY, RST through `resetAndDestroy`, and error codes naming the stage.
 */
import { connect, isIPv6, type Socket } from 'node:net';
import { formatEndpoint } from '../../lib/address.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import { InterruptedError } from '../../lib/errors.js';
import { NetError } from '../errors.js';
import type { Bearer, BearerSink, Endpoint } from './bearer.js';

export interface TcpConnectOptions {
  host: string;
  port: number;
  family?: 4 | 6;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  clock?: Clock;
}

export function connectError(e: NodeJS.ErrnoException, where: string): NetError {
  switch (e.code) {
    case 'ECONNREFUSED':
      return new NetError('CONNECT_REFUSED', `${where}: connection refused`, {
        hint: 'nothing listens on that port, or a firewall rejects it: check the relay runs and the port is open',
        details: { errno: e.code },
      });
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return new NetError('CONNECT_UNREACHABLE', `${where}: network unreachable (${e.code})`, {
        hint: 'no route to that address from here (no IPv6 connectivity?)',
        details: { errno: e.code },
      });
    case 'ECONNRESET':
      return new NetError('CONNECTION_RESET', `${where}: connection reset while connecting`, {
        details: { errno: e.code },
      });
    default:
      return new NetError('CONNECT_FAILED', `${where}: ${e.message}`, { details: { errno: e.code ?? 'unknown' } });
  }
}

/** A connected `net.Socket` as a bearer (outbound from `tcpConnect`, or an accepted one). */
export class TcpBearer implements Bearer {
  readonly kind = 'tcp';
  readonly local: Endpoint | undefined;
  readonly remote: Endpoint | undefined;
  private sink: BearerSink | undefined;
  private error: NetError | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.local =
      socket.localAddress === undefined ? undefined : { host: socket.localAddress, port: socket.localPort ?? 0 };
    this.remote =
      socket.remoteAddress === undefined ? undefined : { host: socket.remoteAddress, port: socket.remotePort ?? 0 };
    // Until attached, errors are kept for the sink (an unhandled 'error' would crash the process).
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error ??=
        e.code === 'ECONNRESET'
          ? new NetError('CONNECTION_RESET', `connection reset by peer: ${e.message}`)
          : new NetError('CONNECTION_CLOSED', `connection failed: ${e.message}`);
    });
  }

  attach(sink: BearerSink): void {
    if (this.sink) throw new Error('bearer already attached');
    this.sink = sink;
    const s = this.socket;
    s.on('data', (chunk: Buffer) => sink.data(chunk));
    s.on('drain', () => sink.drain());
    s.on('end', () => sink.end());
    s.on('close', () => sink.close(this.error));
    if (s.destroyed) queueMicrotask(() => sink.close(this.error));
  }

  write(chunk: Uint8Array): boolean {
    return this.socket.write(chunk);
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  end(): void {
    this.socket.end();
  }

  reset(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  unref(): void {
    this.socket.unref();
  }
}

/** Connects; resolves with the bearer and the connect time in ms. */
export function tcpConnect(o: TcpConnectOptions): Promise<{ bearer: TcpBearer; connectMs: number }> {
  if (o.signal?.aborted) return Promise.reject(abortReason(o.signal));
  const socket = connect({ host: o.host, port: o.port, family: o.family ?? (isIPv6(o.host) ? 6 : 4), noDelay: true });
  return awaitConnect(socket, o);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError();
}

/**
 * Waits for `socket` to connect to `o.host:o.port` (within `o.timeoutMs`, until `o.signal`);
 * `dial` starts the connect once the listeners are in place (a socket created by `connect()`
 * is dialling already). On failure the socket is destroyed. Shared by the plain dial above and
 * the dial from the listening port (reuse-port.ts).
 */
export function awaitConnect(
  socket: Socket,
  o: Pick<TcpConnectOptions, 'host' | 'port' | 'timeoutMs' | 'clock' | 'signal'>,
  dial?: () => void,
): Promise<{ bearer: TcpBearer; connectMs: number }> {
  const where = formatEndpoint({ host: o.host, port: o.port });
  const clock = o.clock ?? systemClock;
  return new Promise((resolve, reject) => {
    const started = clock.now();
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      o.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve({ bearer: new TcpBearer(socket), connectMs: clock.now() - started });
    };
    const onError = (e: NodeJS.ErrnoException): void => finish(connectError(e, where));
    const onConnect = (): void => finish(undefined);
    const onAbort = (): void => finish(abortReason(o.signal as AbortSignal));
    // The socket itself keeps the process alive while connecting; the clock's timer need not.
    const timer = clock.setTimer(o.timeoutMs, () =>
      finish(
        new NetError('CONNECT_TIMEOUT', `${where}: no TCP answer within ${o.timeoutMs} ms`, {
          hint: 'the host is down or a firewall drops the packets; check the address and the port',
          details: { timeoutMs: o.timeoutMs },
        }),
      ),
    );
    socket.once('error', onError);
    socket.once('connect', onConnect);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    else dial?.();
  });
}
