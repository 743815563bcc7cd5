/**
 * Tx-submission v2 (mini-protocol 4), only its first message. A Haskell relay's tx-submission
 * client opens with MsgInit `[6]` and then waits, without a timeout, for the server's requests
 * (wire.md §9). spo's responder never requests transactions, so MsgInit is the only message it
 * may legally receive; anything else is reported as a protocol violation.
 */
import { encodeTerm, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { arity, decodeMessageTerm, messageFields } from './common.js';

export type TxSubmissionMessage = { type: 'Init' };

export function encodeTxSubmission(_m: TxSubmissionMessage): Uint8Array {
  return encodeTerm([6]);
}

export function decodeTxSubmissionTerm(term: Term): TxSubmissionMessage {
  const { tag, fields } = messageFields(term, 'tx-submission');
  if (tag === 6) {
    arity(fields, 0, 'MsgInit');
    return { type: 'Init' };
  }
  throw new CodecError(`tx-submission: message tag ${tag} without a request from spo (only MsgInit is expected)`);
}

export function decodeTxSubmission(bytes: Uint8Array): TxSubmissionMessage {
  return decodeTxSubmissionTerm(decodeMessageTerm(bytes));
}
