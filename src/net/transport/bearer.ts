/**
 * The bearer: what the mux needs from a connection, and nothing more. Bytes in both directions,
 * write back-pressure, a clean close (FIN) and an abortive one (RST), and the two addresses.
 * TCP (`tcp.ts`) and an in-memory pair (`memory.ts`, for tests and the simulator) implement it, so
 * the mux, the handshake and the connection object run the same code over either.
 */
import type { NetError } from '../errors.js';

export interface Endpoint {
  host: string;
  port: number;
}

/** Where a bearer delivers what happens to it. Set once with `attach`; calls never re-enter a write. */
export interface BearerSink {
  /** Bytes from the peer, in order. The chunk may be reused by the bearer after the call: copy to keep. */
  data(chunk: Uint8Array): void;
  /** The write buffer went back under its limit after a `write` returned false. */
  drain(): void;
  /** The peer finished sending (FIN). */
  end(): void;
  /** The bearer is gone: undefined after a clean close (or our own reset), an error otherwise. */
  close(error: NetError | undefined): void;
}

export interface Bearer {
  readonly kind: 'tcp' | 'memory';
  readonly local: Endpoint | undefined;
  readonly remote: Endpoint | undefined;
  /** Starts delivery to `sink` (data that arrived before is delivered then). */
  attach(sink: BearerSink): void;
  /** Queues bytes; false when the buffer is over its limit (wait for `drain`). */
  write(chunk: Uint8Array): boolean;
  /** Bytes queued and not yet handed to the peer. */
  readonly writableLength: number;
  /** Clean close: FIN after the queued bytes. */
  end(): void;
  /** Abortive close: RST; queued bytes are dropped. `close(undefined)` follows on this side. */
  reset(): void;
  /** Releases the bearer without waiting (after `end`, or when it is already broken). */
  destroy(): void;
  readonly destroyed: boolean;
  /** The bearer does not keep the process alive (a CLI exits once its result is out). */
  unref(): void;
}
