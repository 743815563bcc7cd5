/** Keep-alive (mini-protocol 8) messages, v7+ wrapped form (wire.md §5, keep-alive.cddl). */
import { encodeTerm, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { arity, decodeMessageTerm, messageFields, uint, WORD16 } from './common.js';

export type KeepAliveMessage =
  | { type: 'KeepAlive'; cookie: number }
  | { type: 'KeepAliveResponse'; cookie: number }
  | { type: 'Done' };

export function encodeKeepAlive(m: KeepAliveMessage): Uint8Array {
  switch (m.type) {
    case 'KeepAlive':
      return encodeTerm([0, m.cookie]);
    case 'KeepAliveResponse':
      return encodeTerm([1, m.cookie]);
    case 'Done':
      return encodeTerm([2]);
  }
}

export function decodeKeepAliveTerm(term: Term): KeepAliveMessage {
  const { tag, fields } = messageFields(term, 'keep-alive');
  switch (tag) {
    case 0:
      arity(fields, 1, 'MsgKeepAlive');
      return { type: 'KeepAlive', cookie: uint(fields[0], WORD16, 'keep-alive cookie') };
    case 1:
      arity(fields, 1, 'MsgKeepAliveResponse');
      return { type: 'KeepAliveResponse', cookie: uint(fields[0], WORD16, 'keep-alive cookie') };
    case 2:
      arity(fields, 0, 'MsgDone');
      return { type: 'Done' };
    default:
      throw new CodecError(`keep-alive: unknown message tag ${tag}`);
  }
}

export function decodeKeepAlive(bytes: Uint8Array): KeepAliveMessage {
  return decodeKeepAliveTerm(decodeMessageTerm(bytes));
}
