/**
 * Tx-submission, responder side: takes the relay's MsgInit and then stays silent, since spo never
 * asks for transactions (a Haskell client waits for requests without a time limit, wire.md §9).
 */
import type { TxSubmissionMessage } from '../../codec/tx-submission.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type TxSubmissionState, txSubmissionSpec } from '../../protocol/specs.js';
import type { Responder } from '../types.js';

export const silentTxSubmissionResponder: Responder = async (channel) => {
  const p: ProtocolPeer<TxSubmissionMessage, TxSubmissionState> = new ProtocolPeer(txSubmissionSpec, channel, 'server');
  try {
    await p.recv();
  } catch {
    // the mux reports the error and ends the connection
  }
};
