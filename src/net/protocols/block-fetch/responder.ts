/**
 * Block-fetch, responder side: spo serves no block bodies, so every range is answered with
 * MsgNoBlocks, which is what a Haskell relay that fetches from us needs within its 60 s StBusy
 * limit (wire.md §9).
 */
import type { BlockFetchMessage } from '../../codec/block-fetch.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type BlockFetchState, blockFetchSpec } from '../../protocol/specs.js';
import type { Responder } from '../types.js';

export const noBlocksResponder: Responder = async (channel) => {
  const p: ProtocolPeer<BlockFetchMessage, BlockFetchState> = new ProtocolPeer(blockFetchSpec, channel, 'server');
  try {
    for (;;) {
      const m = (await p.recv()).msg;
      if (m.type !== 'RequestRange') return;
      await p.send({ type: 'NoBlocks' });
    }
  } catch {
    // the mux reports the error and ends the connection
  }
};
