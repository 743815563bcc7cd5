/**
 * A typed mini-protocol driver over a mux channel: agency, transitions, per-state timeouts and
 * per-state message size limits, for either side (client = initiator, server = responder).
 * Incoming bytes are framed as they arrive (a resumable scan of CBOR item boundaries, so an
 * unfinished message costs only its new bytes) and each message is decoded once, when complete.
 * A message is judged against the state it arrives in: one the peer has no agency to send ends
 * the connection at once, except the pipelined requests the protocol allows, up to their limit
 * (the node's pipelining depths), so what waits unread stays bounded. Timeouts run on the mux's
 * clock (virtual time in tests and the simulator).
 */
import type { Timer } from '../../lib/clock.js';
import { CborItemScanner, decodeTerm, type Term } from '../cbor.js';
import { CodecError, NetError, type NetErrorCode } from '../errors.js';
import type { Channel } from '../mux/mux.js';

const EMPTY = Buffer.alloc(0);

export type Agency = 'client' | 'server' | 'nobody';

export interface StateSpec {
  agency: Agency;
  /** How long the side without agency waits for the other's message (undefined: no limit). */
  timeoutMs?: number | undefined;
  /** Largest message accepted in this state (bytes). */
  sizeLimit: number;
}

export interface ProtocolSpec<M extends { type: string }, S extends string> {
  name: string;
  protocol: number;
  initial: S;
  states: Record<S, StateSpec>;
  /** The state after `msg` in `state`; undefined when the message is not allowed there. */
  next(state: S, msg: M): S | undefined;
  encode(msg: M): Uint8Array;
  decodeTerm(term: Term): M;
  timeoutCode: NetErrorCode;
  /**
   * Requests a client may send ahead of the server's answers, and how many may wait unread at
   * the server (the node's pipelining depth). Absent: no pipelining.
   */
  clientPipelining?: { messages: readonly string[]; max: number };
}

export interface Received<M> {
  msg: M;
  /** The mux clock's time when the bytes that completed the message were read. */
  at: number;
  size: number;
}

export type Side = 'client' | 'server';

interface Queued<M> extends Received<M> {
  /** Arrived while the peer had no agency (a pipelined request). */
  pipelined: boolean;
}

export class ProtocolPeer<M extends { type: string }, S extends string> {
  state: S;
  /** Where the current message ends, scanned as its bytes arrive. */
  private readonly scanner = new CborItemScanner();
  /**
   * The unfinished message's bytes so far, copied into one buffer that doubles as it fills (a
   * message trickled a byte per segment is neither a list of tiny buffers nor a copy per segment;
   * segment buffers are not kept alive).
   */
  private partial: Buffer = EMPTY;
  private pending = 0;
  private readonly queue: Array<Queued<M>> = [];
  /** Bytes of the queued messages. */
  private queuedBytes = 0;
  /** Queued messages that were pipelined, and the state after the queued others (valid when pipelined = 0). */
  private pipelined = 0;
  private projected: S;
  private readonly dropSegmentTail: boolean;
  private waiter: { resolve: (r: Received<M>) => void; reject: (e: Error) => void } | undefined;
  private timer: Timer | undefined;
  private error: Error | undefined;
  /** The per-state timeouts in force: the instance's own, plus a caller's override for one request. */
  private timeouts: Partial<Record<S, number | undefined>>;
  private readonly baseTimeouts: Partial<Record<S, number | undefined>>;
  private readonly maxLimit: number;
  private onStop: Array<() => void> = [];

  constructor(
    readonly spec: ProtocolSpec<M, S>,
    readonly channel: Channel,
    readonly side: Side,
    options: {
      timeouts?: Partial<Record<S, number | undefined>>;
      /**
       * Ignore what follows a message in its segment, as the node's handshake does (it reads its
       * message from one segment and drops the rest of that segment unread).
       */
      dropSegmentTail?: boolean;
    } = {},
  ) {
    this.state = spec.initial;
    this.projected = spec.initial;
    this.dropSegmentTail = options.dropSegmentTail ?? false;
    this.baseTimeouts = options.timeouts ?? {};
    this.timeouts = { ...this.baseTimeouts };
    this.maxLimit = Math.max(...Object.values<StateSpec>(spec.states).map((st) => st.sizeLimit));
    channel.onClose = (e) => this.closed(e);
    channel.attach((chunk, at) => this.onData(chunk, at));
    this.armTimer();
  }

  get done(): boolean {
    return this.spec.states[this.state].agency === 'nobody';
  }

  /** The error that ended this instance (a violation, a timeout, the connection's end), if any. */
  get failure(): Error | undefined {
    return this.error;
  }

  /** Calls `f` once when this instance can no longer run (error or connection gone); returns a canceller. */
  whenStopped(f: () => void): () => void {
    if (this.error) {
      queueMicrotask(f);
      return () => undefined;
    }
    this.onStop.push(f);
    return () => {
      this.onStop = this.onStop.filter((g) => g !== f);
    };
  }

  private stopped(): void {
    const fs = this.onStop;
    this.onStop = [];
    for (const f of fs) f();
  }

  private peerHasAgency(): boolean {
    const a = this.spec.states[this.state].agency;
    return a !== 'nobody' && a !== this.side;
  }

  /** Sends a message; we must have agency and the transition must exist. */
  async send(msg: M): Promise<void> {
    if (this.error) throw this.error;
    const st = this.spec.states[this.state];
    if (st.agency !== this.side) {
      throw new NetError('PROTOCOL_ERROR', `${this.spec.name}: cannot send ${msg.type} in ${this.state} (no agency)`);
    }
    const next = this.spec.next(this.state, msg);
    if (next === undefined) {
      throw new NetError('PROTOCOL_ERROR', `${this.spec.name}: ${msg.type} is not allowed in ${this.state}`);
    }
    this.state = next;
    // With agency on our side only pipelined requests can be queued: the projection restarts here.
    if (this.pipelined === 0) this.projected = next;
    const bytes = this.spec.encode(msg);
    this.armTimer();
    if (this.done) this.channel.end();
    await this.channel.send(bytes);
  }

  /** The next message from the peer (waits under the state's timeout). */
  recv(): Promise<Received<M>> {
    if (this.queue.length > 0) {
      try {
        return Promise.resolve(this.take());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.error) return Promise.reject(this.error);
    if (this.waiter) return Promise.reject(new Error(`${this.spec.name}: recv() already pending`));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * Overrides the timeout of a state for the current request (e.g. a caller's --timeout): it holds
   * until the peer's answer gives us agency again, then the instance's own timeouts are back, so a
   * short limit asked for one round trip does not stay on a long-lived connection.
   */
  setTimeout(state: S, ms: number | undefined): void {
    this.timeouts[state] = ms;
    this.armTimer();
  }

  private armTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    // A message already queued (pipelined) means the peer did answer.
    if (!this.peerHasAgency() || this.error || this.queue.length > 0) return;
    const ms = this.state in this.timeouts ? this.timeouts[this.state] : this.spec.states[this.state].timeoutMs;
    if (ms === undefined) return;
    const state = this.state;
    this.timer = this.channel.mux.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.violation(
        new NetError(this.spec.timeoutCode, `${this.spec.name}: no answer within ${ms} ms (state ${state})`, {
          details: { protocol: this.spec.name, state, timeoutMs: ms },
        }),
      );
    });
  }

  /**
   * Applies the next queued message to the state machine. Transitions are checked when a message
   * is consumed, not when it arrives, so a peer may pipeline (e.g. many MsgRequestNext).
   */
  private take(): Received<M> {
    const r = this.queue.shift() as Queued<M>;
    this.queuedBytes -= r.size;
    this.channel.queued = this.pending + this.queuedBytes;
    if (r.pipelined) this.pipelined--;
    const msg = r.msg;
    let next: S | undefined;
    if (!this.peerHasAgency()) {
      next = undefined;
    } else next = this.spec.next(this.state, msg);
    if (next === undefined) {
      const err = new NetError(
        'PROTOCOL_ERROR',
        `${this.spec.name}: ${msg.type} ${this.peerHasAgency() ? 'is not allowed' : 'received while the peer has no agency'} in ${this.state}`,
        { details: { protocol: this.spec.name, state: this.state, message: msg.type } },
      );
      this.violation(err);
      throw err;
    }
    this.state = next;
    if (this.queue.length === 0) this.projected = next;
    // The answer is in: a caller's override for this request ends (setTimeout).
    if (this.spec.states[next].agency === this.side) this.timeouts = { ...this.baseTimeouts };
    this.armTimer();
    if (this.done) this.channel.end();
    return { msg: r.msg, at: r.at, size: r.size };
  }

  /** Appends bytes of the unfinished message (`pending` already counts them). */
  private keepPartial(piece: Uint8Array, limit: number): void {
    const have = this.pending - piece.length;
    if (this.pending > this.partial.length) {
      // doubling, never past the message size limit (`pending` is within it)
      const grown = Buffer.allocUnsafeSlow(Math.max(this.pending, Math.min(2 * this.partial.length, limit), 256));
      this.partial.copy(grown, 0, 0, have);
      this.partial = grown;
    }
    this.partial.set(piece, have);
  }

  /** The largest message the peer may send next (its state's limit, the largest for a pipelined one). */
  private incomingLimit(): number {
    if (this.pipelined === 0) {
      const st = this.spec.states[this.projected];
      if (st.agency !== 'nobody' && st.agency !== this.side) return st.sizeLimit;
    }
    return this.maxLimit;
  }

  private onData(chunk: Uint8Array, at: number): void {
    if (this.error) return;
    let off = 0;
    try {
      while (off < chunk.length) {
        const limit = this.incomingLimit();
        let end: number;
        try {
          end = this.scanner.feed(chunk, off);
        } catch (e) {
          throw new CodecError(`invalid CBOR: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (end < 0) {
          // The message goes on in a later segment: keep a copy of its bytes so far.
          this.pending += chunk.length - off;
          if (this.pending > limit) {
            throw new NetError(
              'SIZE_LIMIT_EXCEEDED',
              `${this.spec.name}: message in ${this.projected} larger than its ${limit}-byte limit`,
            );
          }
          this.keepPartial(chunk.subarray(off), limit);
          off = chunk.length;
          break;
        }
        const size = this.pending + (end - off);
        if (size > limit) {
          throw new NetError(
            'SIZE_LIMIT_EXCEEDED',
            `${this.spec.name}: ${size}-byte message over the ${limit}-byte limit of ${this.projected}`,
          );
        }
        // One exact copy per message: decoded byte strings are views into it, never into a read buffer.
        const bytes = Buffer.allocUnsafeSlow(size);
        this.partial.copy(bytes, 0, 0, this.pending);
        bytes.set(chunk.subarray(off, end), this.pending);
        this.partial = EMPTY;
        this.pending = 0;
        off = end;
        let term: Term;
        try {
          term = decodeTerm(bytes);
        } catch (e) {
          throw new CodecError(`invalid CBOR: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.admit(this.spec.decodeTerm(term), at, size);
        if (this.dropSegmentTail) break;
      }
    } catch (e) {
      const err =
        e instanceof NetError
          ? e
          : new NetError('PROTOCOL_ERROR', `${this.spec.name}: ${e instanceof Error ? e.message : String(e)}`, {
              details: { protocol: this.spec.name, state: this.state },
            });
      this.violation(err);
      return;
    }
    // Ingress accounting: the unfinished message plus decoded messages the consumer has not taken.
    this.channel.queued = this.pending + this.queuedBytes;
    if (this.queue.length > 0) {
      this.timer?.cancel();
      this.timer = undefined;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        try {
          w.resolve(this.take());
        } catch (e) {
          w.reject(e as Error);
        }
      }
    }
  }

  /**
   * Judges a message against the state it arrives in: after what is queued, the peer must have
   * agency and the transition must exist; otherwise it must be a request the protocol lets the
   * client pipeline, within the depth. Anything else ends the connection (the node would fail
   * on it too, only later: when it reads it in the wrong state).
   */
  private admit(msg: M, at: number, size: number): void {
    if (this.pipelined === 0) {
      const st = this.projected;
      const agency = this.spec.states[st].agency;
      if (agency !== 'nobody' && agency !== this.side) {
        const next = this.spec.next(st, msg);
        if (next === undefined) {
          throw new NetError('PROTOCOL_ERROR', `${this.spec.name}: ${msg.type} is not allowed in ${st}`, {
            details: { protocol: this.spec.name, state: st, message: msg.type },
          });
        }
        this.projected = next;
        this.push({ msg, at, size, pipelined: false });
        return;
      }
    }
    const pipe = this.side === 'server' ? this.spec.clientPipelining : undefined;
    if (pipe?.messages.includes(msg.type)) {
      if (this.pipelined >= pipe.max) {
        throw new NetError(
          'PROTOCOL_ERROR',
          `${this.spec.name}: more than ${pipe.max} pipelined ${msg.type} waiting (the node's limit)`,
          { details: { protocol: this.spec.name, state: this.state, message: msg.type, pipelined: this.pipelined } },
        );
      }
      this.pipelined++;
      this.push({ msg, at, size, pipelined: true });
      return;
    }
    throw new NetError(
      'PROTOCOL_ERROR',
      `${this.spec.name}: ${msg.type} received in ${this.projected}, where the peer has no agency`,
      { details: { protocol: this.spec.name, state: this.projected, message: msg.type } },
    );
  }

  private push(q: Queued<M>): void {
    this.queue.push(q);
    this.queuedBytes += q.size;
  }

  private violation(err: NetError): void {
    if (this.error) return;
    this.error = err;
    this.timer?.cancel();
    this.timer = undefined;
    this.waiter?.reject(err);
    this.waiter = undefined;
    this.stopped();
    this.channel.fail(err);
  }

  private closed(e: NetError | undefined): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.error) return;
    this.error = e ?? new NetError('CONNECTION_CLOSED', `${this.spec.name}: connection closed`);
    this.waiter?.reject(this.error);
    this.waiter = undefined;
    this.stopped();
  }
}
