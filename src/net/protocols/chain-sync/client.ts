/**
 * Chain-sync, initiator side (wire.md §6): find an intersection (an empty list asks for the tip),
 * then one MsgRequestNext at a time; a wait at the tip (MsgAwaitReply) holds only this protocol, never
 * keep-alive or peer sharing on the same connection. `followChain` is the hot-temperature
 * application that follows a peer's headers until asked to stop.
 */
import type { Millis } from '../../../lib/clock.js';
import type { ChainSyncMessage } from '../../codec/chain-sync.js';
import type { Point, Tip } from '../../codec/point.js';
import type { InitiatorApp } from '../../connection.js';
import { NetError } from '../../errors.js';
import { decodeHeader, type HeaderInfo } from '../../header.js';
import type { Channel } from '../../mux/mux.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type ChainSyncState, chainSyncSpec, mustReplyTimeoutMs } from '../../protocol/specs.js';
import { ProtocolClient } from '../client-base.js';
import type { ClientContext } from '../types.js';

export interface PeerTip {
  slot: number;
  blockNo: number;
  /** lower-case hex; empty string for the genesis tip */
  hash: string;
}

export type ChainSyncEvent =
  | { type: 'RollForward'; header: HeaderInfo; tip: Tip; at: number; awaited: boolean }
  | { type: 'RollBackward'; point: Point; tip: Tip; at: number; awaited: boolean };

export function tipOf(t: Tip): PeerTip {
  return {
    slot: t.point?.slot ?? 0,
    blockNo: t.blockNo,
    hash: t.point ? Buffer.from(t.point.hash).toString('hex') : '',
  };
}

export class ChainSyncClient extends ProtocolClient<ChainSyncMessage, ChainSyncState> {
  constructor(channel: Channel, ctx: ClientContext) {
    // the must-reply wait is drawn per session in [601 s, 911 s], as the node does for untrusted peers
    super(
      new ProtocolPeer(chainSyncSpec, channel, 'client', {
        timeouts: { StMustReply: mustReplyTimeoutMs(ctx.random) },
      }),
      ctx,
      { state: 'StIdle', message: { type: 'Done' } },
    );
  }

  /** Where the state machine is (StMustReply: the peer said it is at its tip and we wait). */
  get state(): ChainSyncState {
    return this.peer.state;
  }

  /** Intersects at the first of `points` the peer has; `found: false` carries the peer's tip only. */
  findIntersect(
    points: Point[],
    opts: { timeoutMs?: Millis } = {},
  ): Promise<{ found: boolean; point: Point; tip: Tip; at: number }> {
    return this.request(async () => {
      if (opts.timeoutMs !== undefined) this.peer.setTimeout('StIntersect', opts.timeoutMs);
      await this.peer.send({ type: 'FindIntersect', points });
      const r = await this.peer.recv();
      const m = r.msg;
      if (m.type === 'IntersectFound') return { found: true, point: m.point, tip: m.tip, at: r.at };
      if (m.type === 'IntersectNotFound') return { found: false, point: null, tip: m.tip, at: r.at };
      throw new NetError('PROTOCOL_ERROR', 'unexpected chain-sync reply');
    });
  }

  /** The peer's tip, by MsgFindIntersect [] (the read pointer does not move), with the round trip in ms. */
  async findTip(opts: { timeoutMs?: Millis } = {}): Promise<PeerTip & { rttMs: number }> {
    const t0 = this.ctx.clock.now();
    const r = await this.findIntersect([], opts);
    return { ...tipOf(r.tip), rttMs: r.at - t0 };
  }

  /** The next header event; `awaited` when the peer was at its tip and the event came later. */
  requestNext(opts: { timeoutMs?: Millis } = {}): Promise<ChainSyncEvent> {
    return this.request(async () => {
      const p = this.peer;
      if (opts.timeoutMs !== undefined) {
        p.setTimeout('StCanAwait', opts.timeoutMs);
        p.setTimeout('StMustReply', opts.timeoutMs);
      }
      await p.send({ type: 'RequestNext' });
      let r = await p.recv();
      let awaited = false;
      if (r.msg.type === 'AwaitReply') {
        awaited = true;
        r = await p.recv();
      }
      const m = r.msg;
      if (m.type === 'RollForward') {
        let header: HeaderInfo;
        try {
          header = decodeHeader(m.header);
        } catch (e) {
          const err = new NetError('PROTOCOL_ERROR', `${this.ctx.where}: undecodable header: ${(e as Error).message}`);
          this.ctx.fail(err);
          throw err;
        }
        return { type: 'RollForward', header, tip: m.tip, at: r.at, awaited };
      }
      if (m.type === 'RollBackward') return { type: 'RollBackward', point: m.point, tip: m.tip, at: r.at, awaited };
      throw new NetError('PROTOCOL_ERROR', 'unexpected chain-sync reply');
    });
  }
}

export interface FollowChainOptions {
  /** Intersect here first (newest first); default: from origin. */
  points?: Point[];
  onEvent: (e: ChainSyncEvent) => void;
}

/**
 * The hot-temperature chain-sync application: follows the peer's headers, one request at a time, and
 * sends MsgDone once asked to stop (a request waiting at the tip is answered first, as the node's
 * client finishes its wait before it sees the stop).
 */
export function followChain(o: FollowChainOptions): InitiatorApp<void> {
  return async (conn, stop) => {
    const cs = conn.chainSyncClient;
    if (o.points && o.points.length > 0) await cs.findIntersect(o.points);
    while (!stop.aborted) o.onEvent(await cs.requestNext());
    await cs.done();
  };
}
