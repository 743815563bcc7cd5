/**
 * The multiplexer: one bearer (a TCP connection, or an in-memory pair) carries the byte streams of many mini-protocol instances,
 * each (protocol, local role) pair with its own ingress queue and limit (wire.md §2).
 *
 * Designed for duplex connections (governor.md §8-10): initiator and responder instances of the
 * same protocol run side by side; responders start on demand when the first segment for them
 * arrives; protocol start, end and error are reported as events for the inbound governor.
 */
import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type Timer } from '../../lib/clock.js';
import { NetError } from '../errors.js';
import type { Bearer } from '../transport/bearer.js';
import { INGRESS_LIMITS, protocolName, SDU_HANDSHAKE_TIMEOUT_MS } from './limits.js';
import {
  encodeSegmentHeader,
  muxTimestamp,
  SDU_SIZE,
  SEGMENT_HEADER_SIZE,
  type Segment,
  SegmentReader,
} from './segment.js';

/** The local role of a mini-protocol instance. */
export type Role = 'initiator' | 'responder';

export interface MuxOptions {
  /** Payload bytes per outgoing segment (default 12,288, as the node on TCP). */
  sduSize?: number;
  /** Per-protocol ingress limits; default the node's. */
  ingressLimits?: Readonly<Record<number, number>>;
  /** Longest time one segment may take to arrive once its first byte is in (default 10 s). */
  sduTimeoutMs?: number;
  /** Most segments written in one bearer write (the node: 100). */
  maxSegmentsPerWrite?: number;
  /** Timers and timestamps (SDU timeout, receive times); default the system clock. */
  clock?: Clock;
}

export interface MuxEvents {
  protocolStart: [protocol: number, role: Role];
  protocolEnd: [protocol: number, role: Role];
  protocolError: [protocol: number, role: Role, error: Error];
  close: [error: NetError | undefined];
}

/** One mini-protocol instance's view of the mux: a byte stream in each direction. */
export class Channel {
  /** Receives ingress payload slices in order, with the mux clock's time of the read (set by the protocol driver). */
  onData: ((chunk: Uint8Array, receivedAt: number) => void) | undefined;
  /** Called once when the connection ends (with the error, if any). */
  onClose: ((error: NetError | undefined) => void) | undefined;
  /** Ingress bytes delivered but not yet released by the consumer. */
  queued = 0;
  ended = false;
  private early: Array<[Uint8Array, number]> = [];
  /** @internal egress bytes not yet cut into segments */
  out: Uint8Array[] = [];
  /** @internal offset into out[0] */
  outOffset = 0;
  /** @internal resolvers of send() promises, with the cumulative byte count they wait for */
  waiters: Array<{ upTo: number; resolve: () => void }> = [];
  /** @internal bytes accepted / written */
  accepted = 0;
  written = 0;

  constructor(
    readonly mux: Mux,
    readonly protocol: number,
    readonly role: Role,
    readonly limit: number,
  ) {}

  /** Queues bytes for sending; resolves when they have been handed to the socket. */
  send(bytes: Uint8Array): Promise<void> {
    return this.mux.enqueue(this, bytes);
  }

  /** The consumer took `n` bytes off the ingress queue. */
  release(n: number): void {
    this.queued = Math.max(0, this.queued - n);
  }

  /** This instance finished (reached its protocol's terminal state). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.mux.instanceEnded(this);
  }

  /** Reports an error of this instance and takes the connection down. */
  fail(error: NetError): void {
    this.mux.instanceFailed(this, error);
  }

  /** @internal */
  deliver(payload: Uint8Array, at: number): void {
    this.queued += payload.length;
    if (this.queued > this.limit) {
      throw new NetError(
        'MUX_INGRESS_OVERRUN',
        `${protocolName(this.protocol)} (${this.role}) ingress queue over its ${this.limit}-byte limit`,
      );
    }
    if (this.onData) this.onData(payload, at);
    else this.early.push([payload.slice(), at]); // before the driver attached (on-demand start)
  }

  /** @internal */
  attach(onData: (chunk: Uint8Array, receivedAt: number) => void): void {
    this.onData = onData;
    const early = this.early;
    this.early = [];
    for (const [p, at] of early) onData(p, at);
  }
}

type ResponderFactory = (channel: Channel) => void;

/** Segments held while the handshake runs: a little more than two maximal segments. */
const MAX_HELD_BYTES = 2 * 65_535 + 16;

export class Mux extends EventEmitter<MuxEvents> {
  readonly sduSize: number;
  readonly clock: Clock;
  private readonly limits: Readonly<Record<number, number>>;
  private readonly channels = new Map<number, Channel>(); // key: protocol * 2 + (responder ? 1 : 0)
  private readonly onDemand = new Map<number, ResponderFactory>();
  private readonly enabled = new Set<number>([0]);
  private readonly reader = new SegmentReader();
  private readonly ready: Channel[] = [];
  private readonly maxSegmentsPerWrite: number;
  /** While the handshake runs: protocols whose segments are held until `release()` (undefined: not holding). */
  private holding: Set<number> | undefined;
  private held: Array<[Segment, number]> = [];
  private heldBytes = 0;
  private sduTimeoutMs: number;
  private sduTimer: Timer | undefined;
  private flushing = false;
  private flushScheduled = false;
  private draining = false;
  private flushWaiters: Array<() => void> = [];
  private closing = false;
  private finished = false;
  private closeError: NetError | undefined;
  /** Resolves when the connection is gone (never rejects). */
  readonly closed: Promise<NetError | undefined>;
  private resolveClosed!: (e: NetError | undefined) => void;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly bearer: Bearer,
    options: MuxOptions = {},
  ) {
    super();
    this.sduSize = options.sduSize ?? SDU_SIZE;
    this.limits = options.ingressLimits ?? INGRESS_LIMITS;
    this.sduTimeoutMs = options.sduTimeoutMs ?? SDU_HANDSHAKE_TIMEOUT_MS;
    this.maxSegmentsPerWrite = options.maxSegmentsPerWrite ?? 100;
    this.clock = options.clock ?? systemClock;
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
    bearer.attach({
      data: (chunk) => this.onBearerData(chunk),
      drain: () => {
        this.draining = false;
        this.scheduleFlush();
      },
      // The peer finished sending. Without our own pending work the connection is over.
      end: () => {
        if (!this.closing) this.finish(new NetError('CONNECTION_CLOSED', 'the peer closed the connection'));
      },
      close: (error) =>
        this.finish(error ?? (this.closing ? undefined : new NetError('CONNECTION_CLOSED', 'connection closed'))),
    });
  }

  get isClosed(): boolean {
    return this.finished;
  }

  get error(): NetError | undefined {
    return this.closeError;
  }

  /** Allows segments of these protocols (after the handshake agreed on them). */
  enable(protocols: Iterable<number>): void {
    for (const p of protocols) this.enabled.add(p);
  }

  isEnabled(protocol: number): boolean {
    return this.enabled.has(protocol);
  }

  /**
   * While the handshake runs, segments of these protocols are held instead of delivered: the peer's
   * first mini-protocol segments may share a read with its handshake answer, before the handshake
   * has said which protocols run. Any other protocol (except the handshake) still ends the
   * connection at its first header, so a peer that does not speak node-to-node fails at once.
   */
  hold(protocols: Iterable<number>): void {
    this.holding = new Set(protocols);
    this.holding.delete(0);
  }

  /** Ends the hold: delivers what was held, in order, under the protocols enabled by now. */
  release(): void {
    if (!this.holding) return;
    this.holding = undefined;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    try {
      for (const [s, at] of held) this.demux(s, at);
    } catch (e) {
      this.fail(e instanceof NetError ? e : new NetError('PROTOCOL_ERROR', e instanceof Error ? e.message : String(e)));
    }
  }

  /** After the handshake: the node's 30 s per-segment limit. */
  setSduTimeout(ms: number): void {
    this.sduTimeoutMs = ms;
  }

  /** Starts (or returns) a mini-protocol instance with the given local role. */
  channel(protocol: number, role: Role): Channel {
    const key = protocol * 2 + (role === 'responder' ? 1 : 0);
    let ch = this.channels.get(key);
    if (!ch || ch.ended) {
      ch = new Channel(this, protocol, role, this.limits[protocol] ?? 65_535);
      this.channels.set(key, ch);
      this.emit('protocolStart', protocol, role);
    }
    return ch;
  }

  /** The running instance of (protocol, role), if any. */
  running(protocol: number, role: Role): Channel | undefined {
    const ch = this.channels.get(protocol * 2 + (role === 'responder' ? 1 : 0));
    return ch && !ch.ended ? ch : undefined;
  }

  /** Registers a responder that starts when the first segment for it arrives (StartOnDemand). */
  respondOnDemand(protocol: number, factory: ResponderFactory): void {
    this.onDemand.set(protocol, factory);
  }

  /** The bearer stops keeping the process alive (a command that has its result can exit). */
  unref(): void {
    this.bearer.unref();
  }

  private onBearerData(chunk: Uint8Array): void {
    if (this.finished) return;
    this.bytesIn += chunk.length;
    const at = this.clock.now();
    let completed = 0;
    try {
      this.reader.push(
        chunk,
        (s) => {
          completed++;
          if (this.holding?.has(s.protocol)) this.keep(s, at);
          else this.demux(s, at);
        },
        (protocol) => {
          if (!this.enabled.has(protocol) && !this.holding?.has(protocol)) {
            throw new NetError(
              'MUX_UNKNOWN_PROTOCOL',
              `segment for mini-protocol ${protocol}, which was not negotiated`,
              {
                hint: 'the peer does not speak node-to-node here (another service on this port?) or broke the protocol',
              },
            );
          }
        },
      );
    } catch (e) {
      this.fail(e instanceof NetError ? e : new NetError('PROTOCOL_ERROR', e instanceof Error ? e.message : String(e)));
      return;
    }
    // The SDU timer covers one segment: from its first byte to its last. A read that completed a
    // segment and started the next restarts it (a long transfer is many segments, each in time).
    if (this.sduTimer && (completed > 0 || this.reader.buffered === 0)) {
      this.sduTimer.cancel();
      this.sduTimer = undefined;
    }
    if (this.reader.buffered > 0 && !this.sduTimer && !this.finished) {
      this.sduTimer = this.clock.setTimer(this.sduTimeoutMs, () => {
        this.sduTimer = undefined;
        this.fail(new NetError('MUX_SDU_TIMEOUT', `a segment took longer than ${this.sduTimeoutMs} ms to arrive`));
      });
    }
  }

  /** Holds a segment that arrived during the handshake (a copy: the read buffer is reused). */
  private keep(s: Segment, at: number): void {
    this.heldBytes += s.payload.length;
    if (this.heldBytes > MAX_HELD_BYTES) {
      throw new NetError(
        'MUX_INGRESS_OVERRUN',
        `more than ${MAX_HELD_BYTES} bytes of mini-protocol segments before the handshake finished`,
      );
    }
    this.held.push([{ ...s, payload: s.payload.slice() }, at]);
  }

  private demux(s: Segment, at: number): void {
    if (this.finished) return;
    if (!this.enabled.has(s.protocol)) {
      throw new NetError('MUX_UNKNOWN_PROTOCOL', `segment for mini-protocol ${s.protocol}, which was not negotiated`);
    }
    // The receiver flips the direction: initiator segments go to our responder instance.
    const role: Role = s.fromResponder ? 'initiator' : 'responder';
    const key = s.protocol * 2 + (role === 'responder' ? 1 : 0);
    let ch = this.channels.get(key);
    if (!ch || ch.ended) {
      const factory = role === 'responder' ? this.onDemand.get(s.protocol) : undefined;
      if (!factory) {
        throw new NetError(
          'MUX_UNKNOWN_PROTOCOL',
          `segment for the ${role} side of ${protocolName(s.protocol)}, which has no instance on this connection`,
        );
      }
      ch = this.channel(s.protocol, role);
      factory(ch);
    }
    ch.deliver(s.payload, at);
  }

  /** @internal */
  enqueue(ch: Channel, bytes: Uint8Array): Promise<void> {
    if (this.finished) return Promise.reject(this.closeError ?? new NetError('CONNECTION_CLOSED', 'connection closed'));
    if (bytes.length === 0) return Promise.resolve(); // never send empty segments (wire.md Q12)
    ch.out.push(bytes);
    ch.accepted += bytes.length;
    if (!this.ready.includes(ch)) this.ready.push(ch);
    const p = new Promise<void>((resolve) => ch.waiters.push({ upTo: ch.accepted, resolve }));
    this.scheduleFlush();
    return p;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Round-robin: one segment per ready channel per turn, batched into one bearer write. */
  private flush(): void {
    if (this.finished || this.draining) return;
    this.flushing = true;
    try {
      while (this.ready.length > 0 && !this.draining) {
        const parts: Uint8Array[] = [];
        let total = 0;
        const done: Channel[] = [];
        const timestamp = muxTimestamp(this.clock.now());
        for (let n = 0; n < this.maxSegmentsPerWrite && this.ready.length > 0 && total < 131_072; n++) {
          const ch = this.ready.shift() as Channel;
          const payload = this.cut(ch);
          const header = encodeSegmentHeader({
            timestamp,
            fromResponder: ch.role === 'responder',
            protocol: ch.protocol,
            length: payload.length,
          });
          parts.push(header, payload);
          total += SEGMENT_HEADER_SIZE + payload.length;
          ch.written += payload.length;
          if (ch.out.length > 0) this.ready.push(ch);
          done.push(ch);
        }
        const buf = parts.length === 2 ? Buffer.concat(parts) : Buffer.concat(parts, total);
        this.bytesOut += buf.length;
        const ok = this.bearer.write(buf);
        for (const ch of done) {
          while (ch.waiters.length > 0 && (ch.waiters[0] as { upTo: number }).upTo <= ch.written) {
            (ch.waiters.shift() as { resolve: () => void }).resolve();
          }
        }
        if (!ok) this.draining = true; // back-pressure: wait for 'drain'
      }
    } finally {
      this.flushing = false;
    }
    if (this.ready.length === 0 && this.flushWaiters.length > 0) {
      const w = this.flushWaiters;
      this.flushWaiters = [];
      for (const f of w) f();
    }
  }

  private cut(ch: Channel): Uint8Array {
    const first = ch.out[0] as Uint8Array;
    const avail = first.length - ch.outOffset;
    if (avail <= this.sduSize && ch.out.length === 1) {
      const p = ch.outOffset === 0 ? first : first.subarray(ch.outOffset);
      ch.out.shift();
      ch.outOffset = 0;
      return p;
    }
    // Pack consecutive messages into one segment and split large ones (as the node's egress).
    const parts: Uint8Array[] = [];
    let room = this.sduSize;
    while (room > 0 && ch.out.length > 0) {
      const b = ch.out[0] as Uint8Array;
      const take = Math.min(room, b.length - ch.outOffset);
      parts.push(b.subarray(ch.outOffset, ch.outOffset + take));
      room -= take;
      ch.outOffset += take;
      if (ch.outOffset === b.length) {
        ch.out.shift();
        ch.outOffset = 0;
      }
    }
    return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
  }

  /** @internal */
  instanceEnded(ch: Channel): void {
    this.emit('protocolEnd', ch.protocol, ch.role);
  }

  /** @internal */
  instanceFailed(ch: Channel, error: NetError): void {
    if (this.listenerCount('protocolError') > 0) this.emit('protocolError', ch.protocol, ch.role, error);
    this.fail(error);
  }

  /** Ends the connection with an error: abortive close (RST), every instance sees the error. */
  fail(error: NetError): void {
    if (this.finished) return;
    this.bearer.reset();
    this.finish(error);
  }

  /**
   * Clean close: hands what is queued to the bearer, then FIN. Resolves when the connection is
   * closed; a peer that does not close within `timeoutMs` has the connection released under it.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.finished) return;
    this.closing = true;
    await this.flushed(timeoutMs);
    if (this.finished) return;
    this.bearer.end();
    const t = this.clock.setTimer(timeoutMs, () => {
      this.bearer.destroy();
      this.finish(undefined);
    });
    await this.closed;
    t.cancel();
  }

  /** Abortive close: TCP RST, nothing queued is sent. */
  abort(): void {
    if (this.finished) return;
    this.closing = true;
    this.bearer.reset();
    this.finish(undefined);
  }

  /** Resolves once every queued segment was handed to the bearer (or after `timeoutMs`). */
  private flushed(timeoutMs: number): Promise<void> {
    if (this.ready.length === 0 || this.finished) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = this.clock.setTimer(timeoutMs, resolve);
      this.flushWaiters.push(() => {
        t.cancel();
        resolve();
      });
    });
  }

  private finish(error: NetError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.closeError = error;
    this.sduTimer?.cancel();
    this.sduTimer = undefined;
    this.held = [];
    for (const ch of this.channels.values()) {
      for (const w of ch.waiters) w.resolve();
      ch.waiters = [];
      ch.onClose?.(error);
    }
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const f of w) f();
    if (!this.bearer.destroyed) this.bearer.destroy();
    this.emit('close', error);
    this.resolveClosed(error);
  }
}
