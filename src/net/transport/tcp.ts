/** TCP connect with a timeout that really ends the attempt, and error codes naming the stage. */
import { connect, isIPv6, type Socket } from 'node:net';
import { formatEndpoint } from '../../lib/address.js';
import { InterruptedError } from '../../lib/errors.js';
import { NetError } from '../errors.js';

export interface TcpConnectOptions {
  host: string;
  port: number;
  family?: 4 | 6;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
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

/** Connects; resolves with the socket and the connect time in ms. */
export function tcpConnect(o: TcpConnectOptions): Promise<{ socket: Socket; connectMs: number }> {
  const where = formatEndpoint({ host: o.host, port: o.port });
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(o.signal.reason instanceof Error ? o.signal.reason : new InterruptedError());
      return;
    }
    const started = performance.now();
    const socket = connect({ host: o.host, port: o.port, family: o.family ?? (isIPv6(o.host) ? 6 : 4), noDelay: true });
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve({ socket, connectMs: performance.now() - started });
    };
    const onError = (e: NodeJS.ErrnoException): void => finish(connectError(e, where));
    const onConnect = (): void => finish(undefined);
    const onAbort = (): void => finish(o.signal?.reason instanceof Error ? o.signal.reason : new InterruptedError());
    const timer = setTimeout(
      () =>
        finish(
          new NetError('CONNECT_TIMEOUT', `${where}: no TCP answer within ${o.timeoutMs} ms`, {
            hint: 'the host is down or a firewall drops the packets; check the address and the port',
            details: { timeoutMs: o.timeoutMs },
          }),
        ),
      o.timeoutMs,
    );
    socket.once('error', onError);
    socket.once('connect', onConnect);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
