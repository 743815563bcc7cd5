/** Block-fetch, initiator side: ask for a range; the blocks come back as opaque terms (or none). */

import type { Millis } from '../../../lib/clock.js';
import type { Term } from '../../cbor.js';
import type { BlockFetchMessage } from '../../codec/block-fetch.js';
import type { Point } from '../../codec/point.js';
import { NetError } from '../../errors.js';
import type { Channel } from '../../mux/mux.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type BlockFetchState, blockFetchSpec } from '../../protocol/specs.js';
import { type ClientContext, clientError, Serial } from '../types.js';

export class BlockFetchClient {
  private readonly peer: ProtocolPeer<BlockFetchMessage, BlockFetchState>;
  private readonly serial = new Serial();

  constructor(
    channel: Channel,
    private readonly ctx: ClientContext,
  ) {
    this.peer = new ProtocolPeer(blockFetchSpec, channel, 'client');
  }

  get finished(): boolean {
    return this.peer.done;
  }

  /** A request is running or queued. */
  get busy(): boolean {
    return this.serial.busy;
  }

  /** The blocks of [from, to], or undefined when the peer has none of them (MsgNoBlocks). */
  requestRange(from: Point, to: Point, opts: { timeoutMs?: Millis } = {}): Promise<Term[] | undefined> {
    return this.serial.run(async () => {
      try {
        if (opts.timeoutMs !== undefined) {
          this.peer.setTimeout('StBusy', opts.timeoutMs);
          this.peer.setTimeout('StStreaming', opts.timeoutMs);
        }
        await this.peer.send({ type: 'RequestRange', from, to });
        const first = (await this.peer.recv()).msg;
        if (first.type === 'NoBlocks') return undefined;
        if (first.type !== 'StartBatch') throw new NetError('PROTOCOL_ERROR', 'unexpected block-fetch reply');
        const blocks: Term[] = [];
        for (;;) {
          const m = (await this.peer.recv()).msg;
          if (m.type === 'BatchDone') return blocks;
          if (m.type !== 'Block') throw new NetError('PROTOCOL_ERROR', 'unexpected block-fetch reply');
          blocks.push(m.block);
        }
      } catch (e) {
        throw clientError(this.ctx, e);
      }
    });
  }

  done(): Promise<void> {
    return this.serial.run(async () => {
      if (this.peer.state === 'StIdle' && !this.peer.failure) {
        await this.peer.send({ type: 'ClientDone' }).catch(() => {});
      }
    });
  }
}
