/**
 * An in-memory bearer pair: two connected endpoints, for tests and the simulator. Each direction
 * has an optional one-way delay on the injected clock (a `Scheduler` runs it in virtual time), and
 * bytes, FIN and RST arrive in the order sent, as on a TCP connection. Delivery is always
 * asynchronous (a timer, even for a delay of 0), so a write never re-enters the writer.
 *
 * Back-pressure: a writer's buffer is what it sent that the other end has not consumed (in flight,
 * or held while the reader is paused); `write` returns false above `highWaterMark`, and `drain`
 * follows when it is consumed down to it.
 */
import type { Clock, Millis } from '../../lib/clock.js';
import { NetError } from '../errors.js';
import type { Bearer, BearerSink, Endpoint } from './bearer.js';

export interface MemoryPairOptions {
  clock: Clock;
  /** One-way delay from the first endpoint to the second (ms, default 0). */
  delayAB?: Millis;
  /** One-way delay from the second endpoint to the first (ms, default 0). */
  delayBA?: Millis;
  /** Buffered bytes above which `write` returns false (default 64 KiB). */
  highWaterMark?: number;
  /** Addresses the endpoints report (defaults: 10.0.0.1:3001 and 10.0.0.2:40000). */
  a?: Endpoint;
  b?: Endpoint;
}

type Item = { kind: 'data'; bytes: Uint8Array } | { kind: 'fin' } | { kind: 'rst' };

/** One endpoint of a memory pair. */
export class MemoryBearer implements Bearer {
  readonly kind = 'memory';
  peer!: MemoryBearer;
  private sink: BearerSink | undefined;
  /** Items that arrived before `attach` or while paused. */
  private inbox: Item[] = [];
  private paused = false;
  /** Bytes we sent that the peer has not consumed. */
  private outstanding = 0;
  private needDrain = false;
  /** Time the last item we sent arrives (keeps arrivals in order). */
  private lastArrival = 0;
  private sentFin = false;
  private gotFin = false;
  private closed = false;
  private closeError: NetError | undefined;
  private unreffed = false;

  constructor(
    private readonly clock: Clock,
    private readonly delay: Millis,
    private readonly highWaterMark: number,
    readonly local: Endpoint,
    readonly remote: Endpoint,
  ) {}

  attach(sink: BearerSink): void {
    if (this.sink) throw new Error('bearer already attached');
    this.sink = sink;
    if (this.closed) {
      const error = this.closeError;
      this.clock.setTimer(0, () => sink.close(error));
    } else this.clock.setTimer(0, () => this.pump());
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed || this.sentFin) return false;
    if (chunk.length === 0) return this.outstanding <= this.highWaterMark;
    this.outstanding += chunk.length;
    this.send({ kind: 'data', bytes: Uint8Array.from(chunk) });
    if (this.outstanding > this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  get writableLength(): number {
    return this.outstanding;
  }

  end(): void {
    if (this.closed || this.sentFin) return;
    this.sentFin = true;
    this.send({ kind: 'fin' });
    this.maybeClosed();
  }

  reset(): void {
    if (this.closed) return;
    this.send({ kind: 'rst' });
    this.finish(undefined);
  }

  destroy(): void {
    if (this.closed) return;
    // As a socket's destroy: the kernel closes the connection (FIN) and we stop reading.
    if (!this.sentFin) {
      this.sentFin = true;
      this.send({ kind: 'fin' });
    }
    this.finish(undefined);
  }

  get destroyed(): boolean {
    return this.closed;
  }

  unref(): void {
    this.unreffed = true;
  }

  /** Stops delivering to the sink (what arrives is held and counts against the writer's buffer). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.clock.setTimer(0, () => this.pump());
  }

  /** True once `unref()` was called (the simulator may use it to tell CLI-style connections apart). */
  get isUnreffed(): boolean {
    return this.unreffed;
  }

  private send(item: Item): void {
    const peer = this.peer;
    const at = Math.max(this.clock.now() + this.delay, this.lastArrival);
    this.lastArrival = at;
    this.clock.setTimer(at - this.clock.now(), () => peer.arrive(item));
  }

  private arrive(item: Item): void {
    if (this.closed) {
      // Nobody reads any more: what was in flight is gone; the writer's buffer frees up.
      if (item.kind === 'data') this.peer.consumed(item.bytes.length);
      return;
    }
    this.inbox.push(item);
    this.pump();
  }

  private pump(): void {
    while (this.sink && !this.paused && !this.closed && this.inbox.length > 0) {
      const item = this.inbox.shift() as Item;
      if (item.kind === 'data') {
        this.peer.consumed(item.bytes.length);
        this.sink.data(item.bytes);
      } else if (item.kind === 'fin') {
        this.gotFin = true;
        this.sink.end();
        // As a socket without allowHalfOpen: the peer's FIN ends our side too.
        this.end();
        this.maybeClosed();
      } else {
        this.finish(new NetError('CONNECTION_RESET', 'connection reset by peer'));
      }
    }
  }

  /** The peer consumed `n` of our bytes. */
  private consumed(n: number): void {
    this.outstanding -= n;
    if (this.needDrain && this.outstanding <= this.highWaterMark && !this.closed) {
      this.needDrain = false;
      this.sink?.drain();
    }
  }

  private maybeClosed(): void {
    if (this.sentFin && this.gotFin) this.finish(undefined);
  }

  private finish(error: NetError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    for (const item of this.inbox) if (item.kind === 'data') this.peer.consumed(item.bytes.length);
    this.inbox = [];
    const sink = this.sink;
    // Delivered asynchronously, as a socket's 'close' event.
    if (sink) this.clock.setTimer(0, () => sink.close(error));
  }
}

/** Two connected in-memory bearers: what the first writes, the second reads, and back. */
export function memoryPair(o: MemoryPairOptions): [MemoryBearer, MemoryBearer] {
  const hwm = o.highWaterMark ?? 64 * 1024;
  const a = o.a ?? { host: '10.0.0.1', port: 3001 };
  const b = o.b ?? { host: '10.0.0.2', port: 40_000 };
  const ea = new MemoryBearer(o.clock, o.delayAB ?? 0, hwm, a, b);
  const eb = new MemoryBearer(o.clock, o.delayBA ?? 0, hwm, b, a);
  ea.peer = eb;
  eb.peer = ea;
  return [ea, eb];
}
