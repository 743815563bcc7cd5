/**
 * One DNS exchange with one server: UDP with a random id from a socket with a random source port,
 * or TCP when the UDP answer was truncated. A UDP datagram is used only when it comes from the
 * server and answers the query (id, name, type, class); anything else is dropped and counted, and
 * waiting goes on until the timeout.
 */
import { randomFillSync, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6, connect as tcpConnect } from 'node:net';
import type { Endpoint } from '../lib/address.js';
import { formatEndpoint } from '../lib/address.js';
import { describeError } from '../lib/errors.js';
import dnsPacket from './dns-packet.js';
import { DnsError } from './errors.js';
import {
  type DnsResponse,
  decodeResponse,
  encodeQuery,
  MAX_MESSAGE,
  matchesQuery,
  type QueryType,
  queryPacket,
} from './packet.js';

export interface ExchangeOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface TransportStats {
  /** Datagrams dropped because id, source or question did not match. */
  mismatched: number;
  /** Datagrams dropped because they could not be decoded safely. */
  malformed: number;
}

export interface ExchangeResult {
  response: DnsResponse;
  /** The answer as received (the cache keeps these bytes, not the decoded objects). */
  message: Buffer;
  transport: 'udp' | 'tcp';
}

export function newQueryId(): number {
  return randomInt(0, 0x10000);
}

/**
 * Query ids for the UDP hot path, from the same CSPRNG as `newQueryId` but drawn 64 at a time:
 * `randomInt` goes through argument checks and its own cache on every call, which a fresh process
 * runs in the interpreter for thousands of queries. (A small batch, so that the refill also runs
 * before V8 optimizes the caller: a first refill after that would throw the compiled code away.)
 */
class RandomIds {
  private readonly bytes = Buffer.allocUnsafeSlow(128);
  private next = this.bytes.length;

  take(): number {
    if (this.next >= this.bytes.length) {
      randomFillSync(this.bytes);
      this.next = 0;
    }
    const id = ((this.bytes[this.next] as number) << 8) | (this.bytes[this.next + 1] as number);
    this.next += 2;
    return id;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  // A v4 server may answer as ::ffff:a.b.c.d on a dual-stack socket.
  return a.replace(/^::ffff:/i, '') === b.replace(/^::ffff:/i, '');
}

/** One UDP query waiting for its answer (a class, not closures: this is the hot path of bulk lookups). */
class Pending {
  malformed: DnsError | undefined = undefined;
  mismatched = 0;
  /** performance.now() by which the answer must be here (the transport's sweep enforces it). */
  deadline = 0;
  onAbort: (() => void) | undefined = undefined;
  done = false;

  constructor(
    readonly slot: Slot,
    readonly id: number,
    readonly server: Endpoint,
    readonly name: string,
    readonly type: QueryType,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
    private readonly onResolve: (result: ExchangeResult) => void,
    private readonly onReject: (error: Error) => void,
    private readonly onSettled: (pending: Pending) => void,
  ) {}

  resolve(result: ExchangeResult): void {
    if (this.settle()) this.onResolve(result);
  }

  fail(error: Error): void {
    if (this.settle()) this.onReject(error);
  }

  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.slot.pending.delete(this.id);
    this.onSettled(this);
    return true;
  }

  send(query: Buffer): void {
    if (this.done) return; // timed out or aborted while the socket was connecting
    try {
      // No callback: Node then sends at once (uv_udp_try_send); errors arrive as 'error' events.
      this.slot.socket.send(query);
    } catch (error) {
      this.fail(networkError(this.server, this.name, this.type, error));
    }
  }

  timeout(): void {
    const { name, type, timeoutMs } = this;
    const where = this.slot.where;
    const details = { name, type, server: where, timeoutMs, mismatched: this.mismatched };
    if (this.malformed) {
      this.fail(
        new DnsError(
          'DNS_MALFORMED',
          `${name} ${type}: only malformed answers from ${where}: ${this.malformed.message}`,
          {
            details: { ...details, ...this.malformed.details },
          },
        ),
      );
    } else {
      this.fail(
        new DnsError('DNS_TIMEOUT', `${name} ${type}: no answer from ${where} within ${timeoutMs} ms`, { details }),
      );
    }
  }
}

interface Slot {
  socket: Socket;
  pending: Map<number, Pending>;
  uses: number;
  retired: boolean;
  /** The server as users write it, for messages. */
  where: string;
  /** Sends queued until the socket is connected; undefined once it is. */
  waiting: Array<() => void> | undefined;
}

export interface UdpTransportOptions {
  /** Queries sent from one socket (one source port) before a fresh socket takes over; default 256. */
  queriesPerSocket?: number;
  stats?: TransportStats;
}

/**
 * UDP exchanges over a rotation of connected sockets, one per server at a time: each socket gets a
 * random source port from the kernel and carries at most `queriesPerSocket` queries (several in
 * flight, told apart by their random ids) before it is retired, so that binding and closing a socket
 * is not paid on every query while the source port still changes often. A datagram is matched to its
 * query by id, then its source address and port, then its question; everything else is dropped and
 * counted. Timeouts: one timer for the whole transport, armed for the earliest deadline of the
 * queries in flight, instead of a timer per query.
 */
export class UdpTransport {
  private readonly slots = new Map<string, Slot>();
  private readonly queriesPerSocket: number;
  private readonly stats: TransportStats;
  private readonly ids = new RandomIds();
  /** Queries waiting for an answer, whatever their socket (the timer sweeps these). */
  private readonly inFlight = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined = undefined;
  /** When the timer fires (performance.now() time); Infinity when it is not armed. */
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(options: UdpTransportOptions = {}) {
    this.queriesPerSocket = Math.max(1, options.queriesPerSocket ?? 256);
    this.stats = options.stats ?? { mismatched: 0, malformed: 0 };
  }

  /** Closes every socket; queries in flight fail. */
  close(): void {
    for (const slot of this.slots.values()) this.retire(slot, true);
    this.slots.clear();
  }

  exchange(server: Endpoint, name: string, type: QueryType, options: ExchangeOptions): Promise<ExchangeResult> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let slot: Slot;
    try {
      slot = this.slot(server);
    } catch (error) {
      return Promise.reject(networkError(server, name, type, error));
    }
    // a fresh id if this one is in flight on this socket (the bound is tested first on every call,
    // so that V8 has seen it before the rare collision)
    let id = this.ids.take();
    for (let tries = 0; tries < 100 && slot.pending.has(id); tries++) id = this.ids.take();
    const query = encodeQuery(id, name, type);
    return new Promise<ExchangeResult>((resolve, reject) => {
      const pending = new Pending(
        slot,
        id,
        server,
        name,
        type,
        options.timeoutMs,
        signal,
        resolve,
        reject,
        this.settled,
      );
      pending.deadline = performance.now() + options.timeoutMs;
      this.inFlight.add(pending);
      if (pending.deadline < this.timerAt) this.arm(pending.deadline);
      if (signal) {
        pending.onAbort = () => pending.fail(abortReason(signal));
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      slot.pending.set(id, pending);
      slot.uses++;
      if (slot.uses >= this.queriesPerSocket) this.retire(slot, false);
      // dgram takes no datagram without an address before connect() completes: queue until then.
      if (slot.waiting) slot.waiting.push(() => pending.send(query));
      else pending.send(query);
    });
  }

  private readonly settled = (pending: Pending): void => {
    this.inFlight.delete(pending);
    // (read on every call, not only when the set is empty: V8 then has seen the read before it
    // optimizes this, and the rare "empty" case does not throw the compiled code away)
    const timer = this.timer;
    if (this.inFlight.size === 0 && timer) {
      // nothing left to time out: no timer may keep the process alive
      clearTimeout(timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
    const slot = pending.slot;
    if (slot.retired && slot.pending.size === 0) this.closeSocket(slot);
  };

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(at - performance.now())));
  }

  /** Fails the queries past their deadline, then re-arms for the earliest one left. */
  private readonly sweep = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let earliest = Number.POSITIVE_INFINITY;
    // (a Set may lose members while it is iterated: timeout() settles, which deletes)
    for (const p of this.inFlight) {
      if (p.deadline <= now) p.timeout();
      else if (p.deadline < earliest) earliest = p.deadline;
    }
    if (earliest < Number.POSITIVE_INFINITY && this.inFlight.size > 0) this.arm(earliest);
  };

  private slot(server: Endpoint): Slot {
    const key = `${server.host} ${server.port}`;
    const current = this.slots.get(key);
    if (current && !current.retired) return current;
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    // A connected socket: the kernel routes once and passes up only datagrams from the server (the
    // source is still checked below). (libuv does not surface ICMP "port unreachable" on it: a dead
    // server is a timeout.)
    const slot: Slot = {
      socket,
      pending: new Map(),
      uses: 0,
      retired: false,
      where: formatEndpoint(server),
      waiting: [],
    };
    socket.connect(server.port, server.host, () => {
      const queued = slot.waiting ?? [];
      slot.waiting = undefined;
      for (const send of queued) send();
    });
    // An idle socket must not keep the process alive; while queries are in flight the transport's timer does.
    socket.unref();
    socket.on('message', (msg, rinfo) => this.onMessage(slot, msg, rinfo));
    socket.on('error', (error) => {
      for (const p of [...slot.pending.values()]) p.fail(networkError(p.server, p.name, p.type, error));
      this.retire(slot, true);
    });
    this.slots.set(key, slot);
    return slot;
  }

  private retire(slot: Slot, now: boolean): void {
    slot.retired = true;
    for (const [key, s] of this.slots) if (s === slot) this.slots.delete(key);
    if (now) {
      for (const p of [...slot.pending.values()])
        p.fail(new DnsError('DNS_NETWORK', `${p.name} ${p.type}: resolver closed`));
    }
    if (slot.pending.size === 0) this.closeSocket(slot);
  }

  private closeSocket(slot: Slot): void {
    try {
      slot.socket.close();
    } catch {
      // already closed
    }
  }

  private onMessage(slot: Slot, msg: Buffer, rinfo: { address: string; port: number }): void {
    const pending = msg.length >= 2 ? slot.pending.get(msg.readUInt16BE(0)) : undefined;
    if (!pending || rinfo.port !== pending.server.port || !sameHost(rinfo.address, pending.server.host)) {
      this.stats.mismatched++;
      if (pending) pending.mismatched++;
      return;
    }
    let response: DnsResponse;
    try {
      response = decodeResponse(msg);
    } catch (error) {
      // A forged or broken datagram must not end the wait for the genuine answer.
      pending.malformed = error instanceof DnsError ? error : new DnsError('DNS_MALFORMED', describeError(error));
      this.stats.malformed++;
      return;
    }
    if (!matchesQuery(response, response.id, pending.name, pending.type)) {
      this.stats.mismatched++;
      pending.mismatched++;
      return;
    }
    pending.resolve({ response, message: msg, transport: 'udp' });
  }
}

function networkError(server: Endpoint, name: string, type: QueryType, error: unknown): DnsError {
  const where = formatEndpoint(server);
  return new DnsError('DNS_NETWORK', `${name} ${type}: cannot query ${where}: ${describeError(error)}`, {
    details: { name, type, server: where },
    cause: error,
  });
}

/** Sends the query over TCP (RFC 7766 framing) and reads exactly one framed answer. */
export function tcpExchange(
  server: Endpoint,
  name: string,
  type: QueryType,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const id = newQueryId();
  const where = formatEndpoint(server);
  const query = dnsPacket.streamEncode(queryPacket(id, name, type));
  return new Promise<ExchangeResult>((resolve, reject) => {
    let done = false;
    let buffered: Buffer = Buffer.alloc(0);
    const socket = tcpConnect({ host: server.host, port: server.port });
    const finish = (error: Error | undefined, result?: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(result as ExchangeResult);
    };
    const onAbort = (): void => finish(abortReason(signal as AbortSignal));
    const timer = setTimeout(
      () =>
        finish(
          new DnsError('DNS_TIMEOUT', `${name} ${type}: no TCP answer from ${where} within ${options.timeoutMs} ms`, {
            details: { name, type, server: where, timeoutMs: options.timeoutMs, transport: 'tcp' },
          }),
        ),
      options.timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setNoDelay(true);
    socket.on('error', (error) => finish(networkError(server, name, type, error)));
    socket.on('connect', () => socket.write(query));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // The answer is complete only once its 2-byte length prefix and that many bytes are here.
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < length + 2) return;
      if (buffered.length > MAX_MESSAGE + 2) {
        finish(new DnsError('DNS_MALFORMED', `${name} ${type}: oversized TCP answer from ${where}`));
        return;
      }
      try {
        const message = buffered.subarray(2, length + 2);
        const response = decodeResponse(message);
        if (!matchesQuery(response, id, name, type)) {
          finish(
            new DnsError('DNS_MALFORMED', `${name} ${type}: the TCP answer from ${where} is for another query`, {
              details: { name, type, server: where, transport: 'tcp' },
            }),
          );
          return;
        }
        finish(undefined, { response, message, transport: 'tcp' });
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('end', () =>
      finish(
        new DnsError('DNS_MALFORMED', `${name} ${type}: ${where} closed the TCP connection before a full answer`, {
          details: { name, type, server: where, transport: 'tcp' },
        }),
      ),
    );
  });
}
