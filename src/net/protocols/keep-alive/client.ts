/**
 * Keep-alive, initiator side (wire.md §5): one request at a time, the cookie echoed, the round trip
 * timed on the mux clock. `keepAliveLoop` is the established-temperature application a node runs on
 * every warm and hot peer (a request every 10 s).
 */
import { type Millis, sleep } from '../../../lib/clock.js';
import type { KeepAliveMessage } from '../../codec/keep-alive.js';
import type { InitiatorApp } from '../../connection.js';
import { NetError } from '../../errors.js';
import type { Channel } from '../../mux/mux.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type KeepAliveState, keepAliveSpec } from '../../protocol/specs.js';
import { ProtocolClient } from '../client-base.js';
import type { ClientContext } from '../types.js';

/** The node's keep-alive interval (ouroboros-consensus NodeToNode.hs `KeepAliveInterval 10`). */
export const KEEPALIVE_INTERVAL_MS = 10_000;

export class KeepAliveClient extends ProtocolClient<KeepAliveMessage, KeepAliveState> {
  constructor(channel: Channel, ctx: ClientContext) {
    super(new ProtocolPeer(keepAliveSpec, channel, 'client'), ctx, {
      state: 'StClient',
      message: { type: 'Done' },
    });
  }

  /**
   * One round trip with `cookie` (a word16; random by default); resolves with the time from writing
   * the request to reading the matching response, in ms. `timeoutMs` overrides the 60 s answer limit.
   */
  roundTrip(cookie?: number, timeoutMs?: Millis): Promise<number> {
    const c = cookie ?? Math.floor(this.ctx.random() * 0x10000);
    // The cookie is a word16 on the wire; a larger one would make the peer drop the connection.
    if (!Number.isInteger(c) || c < 0 || c > 0xffff) {
      return Promise.reject(new RangeError(`keep-alive cookie ${c} is outside 0..65535`));
    }
    return this.request(async () => {
      if (timeoutMs !== undefined) this.peer.setTimeout('StServer', timeoutMs);
      const t0 = this.ctx.clock.now();
      await this.peer.send({ type: 'KeepAlive', cookie: c });
      const r = await this.peer.recv();
      if (r.msg.type !== 'KeepAliveResponse' || r.msg.cookie !== c) {
        const err = new NetError(
          'KEEPALIVE_COOKIE_MISMATCH',
          `${this.ctx.where}: keep-alive answered with another cookie`,
        );
        this.ctx.fail(err);
        throw err;
      }
      return r.at - t0;
    });
  }
}

export interface KeepAliveLoopOptions {
  /** Between requests (default 10 s, as the node). */
  intervalMs?: Millis;
  /** Answer limit of each request (default the protocol's 60 s). */
  timeoutMs?: Millis;
  /** Every round trip time, in ms (the node feeds these into its peer quality estimate). */
  onRtt?: (rttMs: number) => void;
}

/**
 * The established-temperature keep-alive application: a round trip every `intervalMs` until asked to
 * stop, then MsgDone. A failed round trip ends the connection (the error is the application's result).
 */
export function keepAliveLoop(o: KeepAliveLoopOptions = {}): InitiatorApp<void> {
  const interval = o.intervalMs ?? KEEPALIVE_INTERVAL_MS;
  return async (conn, stop) => {
    const ka = conn.keepAliveClient;
    while (!stop.aborted) {
      const rtt = await ka.roundTrip(undefined, o.timeoutMs);
      o.onRtt?.(rtt);
      await sleep(conn.clock, interval, stop).catch(() => undefined);
    }
    await ka.done();
  };
}
