/**
 * One DNS exchange with one server: UDP with a random id from a socket with a random source port,
 * or TCP when the UDP answer was truncated. A UDP datagram is used only when it comes from the
 * server and answers the query (id, name, type, class); anything else is dropped and counted, and
 * waiting goes on until the timeout.
 */
import { randomFillSync, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
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
  plainAnswer,
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
 * Query ids for the UDP hot path, from the same CSPRNG as `newQueryId` but drawn 1,024 at a time
 * (the first batch when the transport is made): `randomInt` goes through argument checks and its
 * own cache on every call, and even a small refill is a call through Node's argument checks, which
 * a fresh process runs in the interpreter.
 */
class RandomIds {
  private readonly bytes = randomFillSync(Buffer.allocUnsafeSlow(2048));
  private next = 0;

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

/**
 * Where a UDP exchange ends: exactly one call, `answered` or `failed`. (An object with two methods
 * rather than closures or a promise: this is the hot path of bulk lookups, and the resolver's
 * single-family lookup takes the answer here directly.)
 */
export interface ExchangeSink {
  /**
   * The answer from the server to this query: `plain` when it is the common answer (`plainAnswer`,
   * the records' offsets; `response` is then undefined), else the decoded `response`.
   */
  answered(message: Buffer, plain: number[] | undefined, response: DnsResponse | undefined): void;
  failed(error: Error): void;
}

/** Settles a promise of `exchange`: the decoded answer whatever its shape. */
class PromiseSink implements ExchangeSink {
  constructor(
    private readonly resolve: (result: ExchangeResult) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  answered(message: Buffer, _plain: number[] | undefined, response: DnsResponse | undefined): void {
    let decoded: DnsResponse;
    try {
      // a plain answer is one decodeResponse has already checked the structure of
      decoded = response ?? decodeResponse(message);
    } catch (error) {
      this.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.resolve({ response: decoded, message, transport: 'udp' });
  }

  failed(error: Error): void {
    this.reject(error);
  }
}

/** One UDP query waiting for its answer (a class, not closures: this is the hot path of bulk lookups). */
class Pending {
  // (fields declared and set in the constructor, not as class fields: those compile to a separate
  // initializer function, called on every query and optimized on its own in a fresh process)
  declare malformed: DnsError | undefined;
  declare mismatched: number;
  /** performance.now() by which the answer must be here (the transport's sweep enforces it). */
  declare deadline: number;
  declare onAbort: (() => void) | undefined;
  declare done: boolean;
  declare readonly slot: Slot;
  declare readonly id: number;
  declare readonly server: Endpoint;
  declare readonly name: string;
  declare readonly type: QueryType;
  declare readonly timeoutMs: number;
  declare readonly signal: AbortSignal | undefined;
  /** The query as sent, and where its question ends (the answer must repeat those bytes). */
  declare readonly query: Buffer;
  declare readonly questionEnd: number;
  declare private readonly sink: ExchangeSink;
  declare private readonly transport: UdpTransport;

  constructor(
    slot: Slot,
    id: number,
    server: Endpoint,
    name: string,
    type: QueryType,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    query: Buffer,
    questionEnd: number,
    deadline: number,
    sink: ExchangeSink,
    transport: UdpTransport,
  ) {
    this.slot = slot;
    this.id = id;
    this.server = server;
    this.name = name;
    this.type = type;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
    this.query = query;
    this.questionEnd = questionEnd;
    this.deadline = deadline;
    this.sink = sink;
    this.transport = transport;
    this.malformed = undefined;
    this.mismatched = 0;
    this.onAbort = undefined;
    this.done = false;
  }

  answer(message: Buffer, plain: number[] | undefined, response: DnsResponse | undefined): void {
    if (this.settle()) this.sink.answered(message, plain, response);
  }

  fail(error: Error): void {
    if (this.settle()) this.sink.failed(error);
  }

  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.transport.finished(this);
    return true;
  }

  send(): void {
    if (this.done) return; // timed out or aborted while the socket was connecting
    try {
      // No callback: Node then sends at once (uv_udp_try_send); errors arrive as 'error' events.
      this.slot.socket.send(this.query);
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

/** A socket older than this is retired at its next query (the source port changes at least this often). */
const SOCKET_MAX_AGE_MS = 60_000;
/** Queries the first socket of a transport carries (see `budget`). */
const FIRST_SOCKET_QUERIES = 32;

interface Slot {
  socket: Socket;
  /** performance.now() when it was opened. */
  openedAt: number;
  /** Queries it carries before it is retired. */
  budget: number;
  /** The server as first asked through this socket. */
  server: Endpoint;
  pending: Map<number, Pending>;
  uses: number;
  retired: boolean;
  /** The server as users write it, for messages. */
  where: string;
  /** Until connect() completes, queries are queued (dgram takes no datagram without an address). */
  connecting: boolean;
  queued: Pending[] | undefined;
}

export interface UdpTransportOptions {
  /** Queries sent from one socket (one source port) before a fresh socket takes over; default 2,048. */
  queriesPerSocket?: number;
  stats?: TransportStats;
}

/**
 * UDP exchanges over a rotation of connected sockets, one per server at a time: each socket gets a
 * random source port from the kernel and carries at most `queriesPerSocket` queries (several in
 * flight, told apart by their random ids), and is used for at most a minute, before it is retired:
 * the source port changes every few seconds of bulk resolution and at least every minute, while
 * opening a socket (measured: about a millisecond of JavaScript in a fresh process) is not paid per
 * query. (Node's own resolver, c-ares, keeps one source port for ever.) A datagram is matched to its
 * query by id, then its source address and port, then its question; everything else is dropped and
 * counted. Timeouts: one timer for the whole transport, armed for the earliest deadline of the
 * queries in flight, instead of a timer per query.
 */
export class UdpTransport {
  private readonly slots = new Map<string, Slot>();
  /** The socket last used (most queries go to the same server as the one before). */
  private lastSlot: Slot | undefined = undefined;
  /** Servers as users write them, by key (made once: formatEndpoint is costly the first times). */
  private readonly labels = new Map<string, string>();
  private readonly queriesPerSocket: number;
  /** Sockets opened so far. */
  private opened = 0;
  private readonly stats: TransportStats;
  private readonly ids = new RandomIds();
  /**
   * Retired sockets whose queries still wait for answers (each is closed by its last answer). The
   * queries waiting are those of the current sockets and of these: the timer sweeps them.
   */
  private readonly draining: Slot[] = [];
  /** How many queries wait, whatever their socket (a count, not a set: no work per query beyond it). */
  private waiting = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** When the timer fires (performance.now() time); Infinity when it is not armed. */
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(options: UdpTransportOptions = {}) {
    this.queriesPerSocket = Math.max(1, options.queriesPerSocket ?? 2048);
    this.stats = options.stats ?? { mismatched: 0, malformed: 0 };
  }

  /** Closes every socket; queries in flight fail. */
  close(): void {
    for (const slot of [...this.slots.values(), ...this.draining]) this.retire(slot, true);
    this.slots.clear();
  }

  exchange(server: Endpoint, name: string, type: QueryType, options: ExchangeOptions): Promise<ExchangeResult> {
    return new Promise<ExchangeResult>((resolve, reject) => {
      this.send(server, name, type, options.timeoutMs, options.signal, new PromiseSink(resolve, reject));
    });
  }

  /**
   * One exchange ending in `sink` (once, possibly before this returns when it cannot start). `now`:
   * performance.now() as the caller has just read it (the timeout runs from there).
   */
  send(
    server: Endpoint,
    name: string,
    type: QueryType,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    sink: ExchangeSink,
    now = performance.now(),
  ): void {
    if (signal?.aborted) {
      sink.failed(abortReason(signal));
      return;
    }
    let slot: Slot;
    let query: Buffer;
    try {
      slot = this.slot(server, now);
    } catch (error) {
      sink.failed(networkError(server, name, type, error));
      return;
    }
    // a fresh id if this one is in flight on this socket (the bound is tested first on every call,
    // so that V8 has seen it before the rare collision)
    let id = this.ids.take();
    for (let tries = 0; tries < 100 && slot.pending.has(id); tries++) id = this.ids.take();
    try {
      query = encodeQuery(id, name, type);
    } catch (error) {
      sink.failed(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // the query ends with the question then the 11-byte OPT record
    const pending = new Pending(
      slot,
      id,
      server,
      name,
      type,
      timeoutMs,
      signal,
      query,
      query.length - 11,
      now + timeoutMs,
      sink,
      this,
    );
    this.waiting++;
    if (pending.deadline < this.timerAt) this.arm(pending.deadline);
    if (signal) {
      pending.onAbort = () => pending.fail(abortReason(signal));
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    slot.pending.set(id, pending);
    slot.uses++;
    if (slot.uses >= slot.budget) this.retire(slot, false);
    // dgram takes no datagram without an address before connect() completes: queue until then.
    if (slot.connecting) {
      // (the queue is made with its first query: an empty array literal would first hold small
      // integers, and optimized code that pushed into one would be thrown away)
      if (slot.queued === undefined) slot.queued = [pending];
      else slot.queued.push(pending);
      return;
    }
    pending.send();
  }

  /** A query has ended (answered, failed, timed out or aborted): called once per query, by Pending. */
  finished(pending: Pending): void {
    const slot = pending.slot;
    slot.pending.delete(pending.id);
    if (--this.waiting === 0) this.idle();
    if (slot.retired && slot.pending.size === 0) this.drained(slot);
  }

  /** Nothing waits any more: nothing to time out, and no timer may keep the process alive. */
  private idle(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** A retired socket's last query has ended: close it. */
  private drained(slot: Slot): void {
    const i = this.draining.indexOf(slot);
    if (i >= 0) this.draining.splice(i, 1);
    this.closeSocket(slot);
  }

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
    // (a Map may lose the entry being visited: timeout() ends the query, which deletes it)
    for (const slot of [...this.slots.values(), ...this.draining]) {
      for (const p of slot.pending.values()) {
        if (p.deadline <= now) p.timeout();
        else if (p.deadline < earliest) earliest = p.deadline;
      }
    }
    if (earliest < Number.POSITIVE_INFINITY && this.waiting > 0) this.arm(earliest);
  };

  private slot(server: Endpoint, now: number): Slot {
    // (the resolver asks the same server object again and again: no key to build for it)
    const last = this.lastSlot;
    if (last !== undefined && last.server === server && !last.retired) {
      if (now - last.openedAt < SOCKET_MAX_AGE_MS) return last;
      this.retire(last, false);
    }
    const key = `${server.host} ${server.port}`;
    const current = this.slots.get(key);
    if (current && !current.retired) {
      if (now - current.openedAt < SOCKET_MAX_AGE_MS) {
        this.lastSlot = current;
        return current;
      }
      this.retire(current, false);
    }
    // (an IPv6 address has a colon and a name or IPv4 address has none: isIPv6's regular expression
    // costs a fresh process milliseconds to compile)
    const socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    let where = this.labels.get(key);
    if (where === undefined) {
      where = formatEndpoint(server);
      this.labels.set(key, where);
    }
    // A connected socket: the kernel routes once and passes up only datagrams from the server (the
    // source is still checked below). (libuv does not surface ICMP "port unreachable" on it: a dead
    // server is a timeout.)
    const slot: Slot = {
      socket,
      server,
      pending: new Map(),
      uses: 0,
      retired: false,
      where,
      connecting: true,
      queued: undefined,
      openedAt: now,
      // The first socket of a transport is retired early: its retirement and draining then happen
      // in the first lookups, before V8 optimizes the code around them (a branch first taken in
      // optimized code throws that code away, to be compiled again).
      budget: this.opened++ === 0 ? Math.min(FIRST_SOCKET_QUERIES, this.queriesPerSocket) : this.queriesPerSocket,
    };
    socket.connect(server.port, server.host, () => {
      const queued = slot.queued ?? [];
      slot.connecting = false;
      slot.queued = undefined;
      for (const pending of queued) pending.send();
    });
    // An idle socket must not keep the process alive; while queries are in flight the transport's timer does.
    socket.unref();
    socket.on('message', (msg, rinfo) => this.onMessage(slot, msg, rinfo));
    socket.on('error', (error) => {
      for (const p of [...slot.pending.values()]) p.fail(networkError(p.server, p.name, p.type, error));
      this.retire(slot, true);
    });
    this.slots.set(key, slot);
    this.lastSlot = slot;
    return slot;
  }

  private retire(slot: Slot, now: boolean): void {
    if (!slot.retired) {
      slot.retired = true;
      for (const [key, s] of this.slots) if (s === slot) this.slots.delete(key);
      if (slot.pending.size > 0) this.draining.push(slot);
    }
    if (now) {
      for (const p of [...slot.pending.values()])
        p.fail(new DnsError('DNS_NETWORK', `${p.name} ${p.type}: resolver closed`));
    }
    if (slot.pending.size === 0) this.drained(slot);
  }

  private closeSocket(slot: Slot): void {
    try {
      slot.socket.close();
    } catch {
      // already closed
    }
  }

  private onMessage(slot: Slot, msg: Buffer, rinfo: { address: string; port: number }): void {
    const pending = msg.length >= 2 ? slot.pending.get(((msg[0] as number) << 8) | (msg[1] as number)) : undefined;
    if (!pending || rinfo.port !== pending.server.port || !sameHost(rinfo.address, pending.server.host)) {
      this.stats.mismatched++;
      if (pending) pending.mismatched++;
      return;
    }
    let plain: number[] | undefined;
    let response: DnsResponse | undefined;
    try {
      plain = plainAnswer(msg, pending.query, pending.questionEnd);
      if (plain === undefined) response = decodeResponse(msg);
    } catch (error) {
      // A forged or broken datagram must not end the wait for the genuine answer.
      pending.malformed = error instanceof DnsError ? error : new DnsError('DNS_MALFORMED', describeError(error));
      this.stats.malformed++;
      return;
    }
    if (response !== undefined && !matchesQuery(response, response.id, pending.name, pending.type)) {
      this.stats.mismatched++;
      pending.mismatched++;
      return;
    }
    pending.answer(msg, plain, response);
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
