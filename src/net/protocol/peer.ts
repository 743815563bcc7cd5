/**
 * A typed mini-protocol driver over a mux channel: agency, transitions, per-state timeouts and
 * per-state message size limits, for either side (client = initiator, server = responder).
 * Incoming bytes are decoded as they arrive (one CBOR item at a time, across segments), so a
 * protocol violation or oversized message ends the connection at once. Timeouts run on the mux's
 * clock (virtual time in tests and the simulator).
 */
import type { Timer } from '../../lib/clock.js';
import { CborError, decodeFirstTerm, type Term } from '../cbor.js';
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
}

export interface Received<M> {
  msg: M;
  /** The mux clock's time when the bytes that completed the message were read. */
  at: number;
  size: number;
}

export type Side = 'client' | 'server';

export class ProtocolPeer<M extends { type: string }, S extends string> {
  state: S;
  private buffer: Uint8Array = EMPTY;
  private readonly queue: Array<Received<M>> = [];
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
    options: { timeouts?: Partial<Record<S, number | undefined>> } = {},
  ) {
    this.state = spec.initial;
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
    const r = this.queue.shift() as Received<M>;
    this.channel.release(r.size);
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
    // The answer is in: a caller's override for this request ends (setTimeout).
    if (this.spec.states[next].agency === this.side) this.timeouts = { ...this.baseTimeouts };
    this.armTimer();
    if (this.done) this.channel.end();
    return r;
  }

  private onData(chunk: Uint8Array, at: number): void {
    if (this.error) return;
    const data: Uint8Array = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let off = 0;
    try {
      while (off < data.length) {
        const limit = this.peerHasAgency() ? this.spec.states[this.state].sizeLimit : this.maxLimit;
        let item: { term: Term; length: number };
        try {
          item = decodeFirstTerm(data, off);
        } catch (e) {
          if (e instanceof CborError && e.incomplete) {
            if (data.length - off > limit) {
              throw new NetError(
                'SIZE_LIMIT_EXCEEDED',
                `${this.spec.name}: message in ${this.state} larger than its ${limit}-byte limit`,
              );
            }
            break;
          }
          throw new CodecError(`invalid CBOR: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (item.length > limit) {
          throw new NetError(
            'SIZE_LIMIT_EXCEEDED',
            `${this.spec.name}: ${item.length}-byte message over the ${limit}-byte limit of ${this.state}`,
          );
        }
        const msg = this.spec.decodeTerm(item.term);
        off += item.length;
        this.queue.push({ msg, at, size: item.length });
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
    // keep the unfinished tail (a copy, so the segment buffer can be released)
    this.buffer = off === data.length ? EMPTY : Buffer.from(data.subarray(off));
    // Ingress accounting: the unfinished message plus decoded messages the consumer has not taken.
    let held = this.buffer.length;
    for (const q of this.queue) held += q.size;
    this.channel.queued = held;
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
