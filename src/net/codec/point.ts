/** Points and tips (ouroboros-network Block.hs encodePoint/encodeTip; wire.md §6.2). */
import type { Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { array, bytes, uint, WORD64 } from './common.js';

/** A block point; `null` is the origin (`[]`). */
export type Point = { slot: number; hash: Uint8Array } | null;

export interface Tip {
  point: Point;
  blockNo: number;
}

export function encodePoint(p: Point): Term {
  return p === null ? [] : [p.slot, p.hash];
}

export function decodePoint(t: Term | undefined, what = 'point'): Point {
  const a = array(t, what);
  if (a.length === 0) return null;
  if (a.length !== 2) throw new CodecError(`${what}: expected [] or [slot, hash]`);
  return { slot: uint(a[0], WORD64, `${what} slot`), hash: bytes(a[1], `${what} hash`, 32) };
}

export function encodeTip(t: Tip): Term {
  return [encodePoint(t.point), t.blockNo];
}

export function decodeTip(t: Term | undefined): Tip {
  const a = array(t, 'tip');
  if (a.length !== 2) throw new CodecError('tip: expected [point, blockNo]');
  return { point: decodePoint(a[0], 'tip point'), blockNo: uint(a[1], WORD64, 'tip block number') };
}

export const GENESIS_TIP: Tip = { point: null, blockNo: 0 };
