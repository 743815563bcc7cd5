/** Chain-sync (mini-protocol 2) messages (wire.md §6, chain-sync.cddl). Headers stay as CBOR terms here; header.ts reads them. */
import { encodeTerm, indefinite, isIndefinite, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { arity, array, decodeMessageTerm, messageFields } from './common.js';
import { decodePoint, decodeTip, encodePoint, encodeTip, type Point, type Tip } from './point.js';

export type ChainSyncMessage =
  | { type: 'RequestNext' }
  | { type: 'AwaitReply' }
  | { type: 'RollForward'; header: Term; tip: Tip }
  | { type: 'RollBackward'; point: Point; tip: Tip }
  /** `indefinite` records the list form seen; unset, the Haskell style is used (empty definite, else indefinite). */
  | { type: 'FindIntersect'; points: Point[]; indefinite?: boolean }
  | { type: 'IntersectFound'; point: Point; tip: Tip }
  | { type: 'IntersectNotFound'; tip: Tip }
  | { type: 'Done' };

export function encodeChainSync(m: ChainSyncMessage): Uint8Array {
  switch (m.type) {
    case 'RequestNext':
      return encodeTerm([0]);
    case 'AwaitReply':
      return encodeTerm([1]);
    case 'RollForward':
      return encodeTerm([2, m.header, encodeTip(m.tip)]);
    case 'RollBackward':
      return encodeTerm([3, encodePoint(m.point), encodeTip(m.tip)]);
    case 'FindIntersect': {
      const list: Term[] = m.points.map(encodePoint);
      if (m.indefinite ?? m.points.length > 0) indefinite(list);
      return encodeTerm([4, list]);
    }
    case 'IntersectFound':
      return encodeTerm([5, encodePoint(m.point), encodeTip(m.tip)]);
    case 'IntersectNotFound':
      return encodeTerm([6, encodeTip(m.tip)]);
    case 'Done':
      return encodeTerm([7]);
  }
}

export function decodeChainSyncTerm(term: Term): ChainSyncMessage {
  const { tag, fields } = messageFields(term, 'chain-sync');
  switch (tag) {
    case 0:
      arity(fields, 0, 'MsgRequestNext');
      return { type: 'RequestNext' };
    case 1:
      arity(fields, 0, 'MsgAwaitReply');
      return { type: 'AwaitReply' };
    case 2:
      arity(fields, 2, 'MsgRollForward');
      return { type: 'RollForward', header: fields[0] as Term, tip: decodeTip(fields[1]) };
    case 3:
      arity(fields, 2, 'MsgRollBackward');
      return { type: 'RollBackward', point: decodePoint(fields[0]), tip: decodeTip(fields[1]) };
    case 4: {
      arity(fields, 1, 'MsgFindIntersect');
      // The decoder accepts definite and indefinite lists (wire.md §3; the CDDL comment says otherwise).
      const list = array(fields[0], 'MsgFindIntersect points');
      return { type: 'FindIntersect', points: list.map((p) => decodePoint(p)), indefinite: isIndefinite(list) };
    }
    case 5:
      arity(fields, 2, 'MsgIntersectFound');
      return { type: 'IntersectFound', point: decodePoint(fields[0]), tip: decodeTip(fields[1]) };
    case 6:
      arity(fields, 1, 'MsgIntersectNotFound');
      return { type: 'IntersectNotFound', tip: decodeTip(fields[0]) };
    case 7:
      arity(fields, 0, 'MsgDone');
      return { type: 'Done' };
    default:
      throw new CodecError(`chain-sync: unknown message tag ${tag}`);
  }
}

export function decodeChainSync(bytes: Uint8Array): ChainSyncMessage {
  return decodeChainSyncTerm(decodeMessageTerm(bytes));
}
