/**
 * Sockets bound to the node's listening address (governor.md §8.4, `configureSocket`): the node
 * dials its outbound connections *from* its listening address and port, so the remote sees the
 * address it can dial back and can reuse the connection as its own outbound one (duplex reuse).
 *
 * Node's `net` cannot do this: `net.connect({localPort})` to a port a listener holds fails with
 * EADDRINUSE, because Linux allows two sockets on one port only when *both* set SO_REUSEPORT before
 * bind, and Node sets it on neither (docs/ARCHITECTURE.md, "Duplex from the listening address").
 * The npm package `node-unix-socket` (a Node-API addon shipped prebuilt per platform, so nothing
 * is compiled at install) creates a bound TCP socket with SO_REUSEADDR and SO_REUSEPORT;
 * `server.listen({fd})` takes one as the listener, `new net.Socket({fd})` + `connect()` as an
 * outbound socket. The package is loaded lazily: where it has no binary (or fails to load) the
 * node listens and dials as before, and `reusePortSupported()` says so.
 */
import { createRequire } from 'node:module';
import { isIPv4, isIPv6, type Server, Socket } from 'node:net';
import { formatEndpoint } from '../../lib/address.js';
import type { Clock } from '../../lib/clock.js';
import { InterruptedError } from '../../lib/errors.js';
import { NetError } from '../errors.js';
import type { Endpoint } from './bearer.js';
import { awaitConnect, type TcpBearer } from './tcp.js';

/** What spo uses of `node-unix-socket`. */
interface ReusePortAddon {
  /** A TCP socket with SO_REUSEADDR and SO_REUSEPORT, bound to host:port (not listening); its fd. */
  createReuseportFd(port: number, host: string): number;
  closeFd(fd: number): void;
}

let addon: ReusePortAddon | null | undefined;
let loadError: string | undefined;

function load(): ReusePortAddon | undefined {
  if (addon === undefined) {
    try {
      const require = createRequire(import.meta.url);
      addon = require('node-unix-socket') as ReusePortAddon;
    } catch (e) {
      addon = null;
      loadError = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  return addon ?? undefined;
}

/** Whether sockets can share the listening port here (the addon loaded); why not otherwise. */
export function reusePortSupported(): { supported: true } | { supported: false; reason: string } {
  return load() ? { supported: true } : { supported: false, reason: loadError ?? 'not loaded' };
}

/** strerror texts of the bind failures a caller tells apart, as the addon reports them (its code is 'Unknown'). */
const ERRNO_BY_MESSAGE: Record<string, string> = {
  'Address already in use': 'EADDRINUSE',
  'Cannot assign requested address': 'EADDRNOTAVAIL',
  'Permission denied': 'EACCES',
};

/** The addon's error with the errno code Node's own listen() would give, so callers need one check. */
function withErrno(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const code = ERRNO_BY_MESSAGE[e.message];
  if (code) (e as NodeJS.ErrnoException).code = code;
  return e;
}

/** Makes `host:port` usable by outbound sockets too: `server` listens on a SO_REUSEPORT socket. */
export function listenReusePort(server: Server, o: { host: string; port: number; backlog?: number }): Promise<void> {
  const a = load();
  if (!a) return Promise.reject(new Error(`SO_REUSEPORT unavailable: ${loadError ?? 'not loaded'}`));
  if (!isIPv4(o.host) && !isIPv6(o.host)) return Promise.reject(new Error(`not an IP address: ${o.host}`));
  let fd: number;
  try {
    fd = a.createReuseportFd(o.port, o.host);
  } catch (e) {
    return Promise.reject(withErrno(e));
  }
  return new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      a.closeFd(fd);
      reject(e);
    };
    server.once('error', onError);
    server.listen({ fd, ...(o.backlog === undefined ? {} : { backlog: o.backlog }) }, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}

export interface TcpConnectFromOptions {
  /** Our listening address (the remote sees this as our address). */
  local: Endpoint;
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  clock?: Clock;
}

/**
 * Connects from `local` (the listening address, shared through SO_REUSEPORT) to host:port, with a
 * connect timeout on the clock; resolves with the bearer and the connect time in ms. The kernel
 * allows one connection per 4-tuple: a second dial to the same peer fails with CONNECT_UNREACHABLE
 * (EADDRNOTAVAIL), which the connection manager never asks for.
 */
export function tcpConnectFrom(o: TcpConnectFromOptions): Promise<{ bearer: TcpBearer; connectMs: number }> {
  const where = formatEndpoint({ host: o.host, port: o.port });
  const a = load();
  if (!a) {
    return Promise.reject(
      new NetError(
        'CONNECT_FAILED',
        `${where}: cannot dial from ${formatEndpoint(o.local)}: SO_REUSEPORT unavailable`,
        {
          details: { reason: loadError ?? 'not loaded' },
        },
      ),
    );
  }
  if (isIPv6(o.local.host) !== isIPv6(o.host)) {
    return Promise.reject(
      new NetError('CONNECT_FAILED', `${where}: cannot dial from ${formatEndpoint(o.local)}: address families differ`),
    );
  }
  if (o.signal?.aborted) {
    return Promise.reject(o.signal.reason instanceof Error ? o.signal.reason : new InterruptedError());
  }
  let fd: number;
  try {
    fd = a.createReuseportFd(o.local.port, o.local.host);
  } catch (e) {
    return Promise.reject(
      new NetError('CONNECT_FAILED', `${where}: cannot bind ${formatEndpoint(o.local)}: ${(e as Error).message}`),
    );
  }
  let socket: Socket;
  try {
    // Node wraps the bound fd; `connect` then dials from it (measured: data flows both ways).
    socket = new Socket({ fd });
  } catch (e) {
    a.closeFd(fd);
    return Promise.reject(new NetError('CONNECT_FAILED', `${where}: ${(e as Error).message}`));
  }
  return awaitConnect(socket, o, () => socket.connect({ host: o.host, port: o.port, noDelay: true }));
}
