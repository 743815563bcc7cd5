/** Block-fetch, initiator side: ask for a range; the blocks come back as opaque terms (or none). */

import type { Millis } from '../../../lib/clock.js';
import type { Term } from '../../cbor.js';
import type { BlockFetchMessage } from '../../codec/block-fetch.js';
import type { Point } from '../../codec/point.js';
import { NetError } from '../../errors.js';
import type { Channel } from '../../mux/mux.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type BlockFetchState, blockFetchSpec } from '../../protocol/specs.js';
import { ProtocolClient } from '../client-base.js';
import type { ClientContext } from '../types.js';

export class BlockFetchClient extends ProtocolClient<BlockFetchMessage, BlockFetchState> {
  constructor(channel: Channel, ctx: ClientContext) {
    super(new ProtocolPeer(blockFetchSpec, channel, 'client'), ctx, {
      state: 'StIdle',
      message: { type: 'ClientDone' },
    });
  }

  /** The blocks of [from, to], or undefined when the peer has none of them (MsgNoBlocks). */
  requestRange(from: Point, to: Point, opts: { timeoutMs?: Millis } = {}): Promise<Term[] | undefined> {
    return this.request(async () => {
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
    });
  }
}
