/**
 * The responders of a node-to-node connection, from their inputs: what chain to serve and which
 * peers to share. `spo serve`, a duplex client and the coming `spo run` use the same ones.
 */
import { Protocol } from '../mux/limits.js';
import { noBlocksResponder } from './block-fetch/responder.js';
import { chainSyncResponder } from './chain-sync/responder.js';
import { type ChainProvider, EMPTY_CHAIN } from './chain-sync/source.js';
import { keepAliveResponder } from './keep-alive/responder.js';
import { type PeerSource, peerSharingResponder } from './peer-sharing/responder.js';
import { silentTxSubmissionResponder } from './tx-submission/responder.js';
import type { Responders } from './types.js';

export interface ResponderInputs {
  /** The chain served by chain-sync (default: an empty chain). */
  chain?: ChainProvider;
  /** The peers shared (default: none). Peer sharing runs only when the handshake agreed on it. */
  peers?: PeerSource;
}

/** Keep-alive, chain-sync, peer sharing, block-fetch (no blocks) and tx-submission (MsgInit only). */
export function nodeResponders(inputs: ResponderInputs = {}): Responders {
  return {
    [Protocol.keepAlive]: keepAliveResponder,
    [Protocol.chainSync]: chainSyncResponder(inputs.chain ?? EMPTY_CHAIN),
    [Protocol.peerSharing]: peerSharingResponder(inputs.peers ?? (() => [])),
    [Protocol.blockFetch]: noBlocksResponder,
    [Protocol.txSubmission]: silentTxSubmissionResponder,
  };
}
