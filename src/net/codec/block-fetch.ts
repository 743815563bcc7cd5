/**
 * Block-fetch (mini-protocol 3) messages (block-fetch.cddl, wire.md §6.6). spo serves no block
 * bodies: its responder answers every range with MsgNoBlocks, which is what a Haskell relay that
 * fetches from us needs within the 60 s StBusy limit (wire.md §9). Blocks stay opaque bytes.
 */
import { encodeTerm, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { arity, decodeMessageTerm, messageFields } from './common.js';
import { decodePoint, encodePoint, type Point } from './point.js';

export type BlockFetchMessage =
  | { type: 'RequestRange'; from: Point; to: Point }
  | { type: 'ClientDone' }
  | { type: 'StartBatch' }
  | { type: 'NoBlocks' }
  | { type: 'Block'; block: Term }
  | { type: 'BatchDone' };

export function encodeBlockFetch(m: BlockFetchMessage): Uint8Array {
  switch (m.type) {
    case 'RequestRange':
      return encodeTerm([0, encodePoint(m.from), encodePoint(m.to)]);
    case 'ClientDone':
      return encodeTerm([1]);
    case 'StartBatch':
      return encodeTerm([2]);
    case 'NoBlocks':
      return encodeTerm([3]);
    case 'Block':
      return encodeTerm([4, m.block]);
    case 'BatchDone':
      return encodeTerm([5]);
  }
}

export function decodeBlockFetchTerm(term: Term): BlockFetchMessage {
  const { tag, fields } = messageFields(term, 'block-fetch');
  switch (tag) {
    case 0:
      arity(fields, 2, 'MsgRequestRange');
      return {
        type: 'RequestRange',
        from: decodePoint(fields[0], 'range start'),
        to: decodePoint(fields[1], 'range end'),
      };
    case 1:
      arity(fields, 0, 'MsgClientDone');
      return { type: 'ClientDone' };
    case 2:
      arity(fields, 0, 'MsgStartBatch');
      return { type: 'StartBatch' };
    case 3:
      arity(fields, 0, 'MsgNoBlocks');
      return { type: 'NoBlocks' };
    case 4:
      arity(fields, 1, 'MsgBlock');
      return { type: 'Block', block: fields[0] as Term };
    case 5:
      arity(fields, 0, 'MsgBatchDone');
      return { type: 'BatchDone' };
    default:
      throw new CodecError(`block-fetch: unknown message tag ${tag}`);
  }
}

export function decodeBlockFetch(bytes: Uint8Array): BlockFetchMessage {
  return decodeBlockFetchTerm(decodeMessageTerm(bytes));
}
