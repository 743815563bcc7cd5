/**
 * A bearer that holds every write for a fixed time before handing it to the real bearer: the
 * one-way latency of a long link, injected in spo's own transport (`spo testnet`, docs/testnet.md),
 * so no root, `tc netem` or other kernel feature is needed. Each node delays what it *sends*, by
 * the delay of the link to that remote, so each direction of a link is delayed once.
 *
 * Bytes keep their order (one queue, released strictly by due time), a FIN goes out after the
 * bytes written before it, a reset drops what is held. The delay models propagation only, not
 * bandwidth: bytes held count towards `writableLength` and towards back-pressure like bytes in the
 * socket's own buffer, so a writer above `highWaterMark` waits for `drain` as it would on TCP.
 */
import type { Clock, Millis, Timer } from '../../lib/clock.js';
import type { Bearer, BearerSink } from './bearer.js';

/**
 * Held bytes above which `write` returns false (a held window of a long link is larger than TCP's
 * 16 KiB default mark); the inner bearer's own back-pressure counts too.
 */
export const DELAYED_HIGH_WATER_MARK = 256 * 1024;

interface Held {
  due: Millis;
  bytes: Uint8Array;
}

export class DelayedBearer implements Bearer {
  private readonly queue: Held[] = [];
  /** Index of the first item still held (items before it were sent; the array is compacted now and then). */
  private head = 0;
  private heldBytes = 0;
  private timer: Timer | undefined;
  private ending = false;
  private needDrain = false;
  /** The inner bearer's last write returned false and its drain has not come yet. */
  private innerFull = false;
  private sink: BearerSink | undefined;
  private gone = false;

  constructor(
    private readonly inner: Bearer,
    private readonly clock: Clock,
    /** One-way delay added to every byte written, in ms (≥ 0). */
    readonly delayMs: Millis,
    private readonly highWaterMark: number = DELAYED_HIGH_WATER_MARK,
  ) {}

  get kind(): Bearer['kind'] {
    return this.inner.kind;
  }
  get local() {
    return this.inner.local;
  }
  get remote() {
    return this.inner.remote;
  }

  attach(sink: BearerSink): void {
    this.sink = sink;
    this.inner.attach({
      data: (chunk) => sink.data(chunk),
      drain: () => {
        this.innerFull = false;
        this.maybeDrain();
      },
      end: () => sink.end(),
      close: (error) => {
        this.drop();
        sink.close(error);
      },
    });
  }

  write(chunk: Uint8Array): boolean {
    if (this.gone || this.ending || this.inner.destroyed) return false;
    if (chunk.length > 0) {
      // The caller may reuse its buffer once write returns.
      this.queue.push({ due: this.clock.now() + this.delayMs, bytes: Uint8Array.from(chunk) });
      this.heldBytes += chunk.length;
      this.arm();
    }
    if (this.heldBytes > this.highWaterMark || this.innerFull) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  get writableLength(): number {
    return this.heldBytes + this.inner.writableLength;
  }

  /** Bytes held back, not yet handed to the inner bearer. */
  get held(): number {
    return this.heldBytes;
  }

  end(): void {
    if (this.gone || this.ending) return;
    this.ending = true;
    if (this.head === this.queue.length) this.inner.end();
  }

  reset(): void {
    this.drop();
    this.inner.reset();
  }

  destroy(): void {
    this.drop();
    this.inner.destroy();
  }

  get destroyed(): boolean {
    return this.inner.destroyed;
  }

  unref(): void {
    this.inner.unref();
  }

  /** One timer, for the item at the head of the queue (due times never decrease: one delay, a monotonic clock). */
  private arm(): void {
    if (this.timer !== undefined || this.head === this.queue.length) return;
    const first = this.queue[this.head] as Held;
    this.timer = this.clock.setTimer(first.due - this.clock.now(), () => {
      this.timer = undefined;
      this.release();
    });
  }

  private release(): void {
    if (this.gone) return;
    const now = this.clock.now();
    while (this.head < this.queue.length) {
      const item = this.queue[this.head] as Held;
      if (item.due > now) break;
      this.head++;
      this.heldBytes -= item.bytes.length;
      if (this.inner.destroyed) continue;
      if (!this.inner.write(item.bytes)) this.innerFull = true;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      if (this.ending && !this.inner.destroyed) this.inner.end();
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
    this.maybeDrain();
  }

  private maybeDrain(): void {
    if (!this.needDrain || this.gone || this.innerFull || this.heldBytes > this.highWaterMark) return;
    this.needDrain = false;
    this.sink?.drain();
  }

  private drop(): void {
    this.gone = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.heldBytes = 0;
  }
}

/**
 * Per-remote one-way delays: the delay to apply to what we send to a remote IP. A node of a
 * testnet is named by its own loopback address (127.0.0.X), so the remote IP of a connection,
 * inbound or outbound, says which link it is.
 */
export type LinkDelays = ReadonlyMap<string, Millis>;

/** `bearer` with the delay of its remote's link, or `bearer` itself when the link has none. */
export function withLinkDelay(bearer: Bearer, delays: LinkDelays, clock: Clock): Bearer {
  const host = bearer.remote?.host;
  const ms = host === undefined ? undefined : (delays.get(host) ?? delays.get(stripMapped(host)));
  return ms === undefined || ms <= 0 ? bearer : new DelayedBearer(bearer, clock, ms);
}

/** `::ffff:127.0.0.2` (an IPv4 peer on a dual-stack socket) is 127.0.0.2. */
function stripMapped(host: string): string {
  return host.startsWith('::ffff:') ? host.slice(7) : host;
}
