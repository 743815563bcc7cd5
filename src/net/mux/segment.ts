/**
 * Mux segment (SDU) framing (wire.md §2.1): 8-byte big-endian header = 32-bit sender timestamp
 * (µs), mode bit (0x8000 of the 16-bit word: set = sent by the responder instance, as in the
 * Haskell CODE, not its Haddock comment), 15-bit mini-protocol number, 16-bit payload length.
 */
import { NetError } from '../errors.js';

export const SEGMENT_HEADER_SIZE = 8;
const EMPTY = Buffer.alloc(0);
/** Payload bytes per segment the node sends on TCP; we send the same and accept up to 65535. */
export const SDU_SIZE = 12_288;
export const MAX_PAYLOAD = 0xffff;

export interface SegmentHeader {
  timestamp: number;
  /** true when the segment was sent by the responder instance of the protocol (mode bit set). */
  fromResponder: boolean;
  protocol: number;
  length: number;
}

export interface Segment extends SegmentHeader {
  payload: Uint8Array;
}

/** Low 32 bits of a monotonic clock in microseconds (from ms), as the node stamps its segments. */
export function muxTimestamp(nowMs: number): number {
  return Math.floor(nowMs * 1000) >>> 0;
}

export function encodeSegmentHeader(h: SegmentHeader, out: Uint8Array = new Uint8Array(8), offset = 0): Uint8Array {
  if (h.length < 1 || h.length > MAX_PAYLOAD)
    throw new RangeError(`segment payload length ${h.length} out of 1..65535`);
  if (h.protocol < 0 || h.protocol > 0x7fff) throw new RangeError(`protocol number ${h.protocol} out of 0..32767`);
  const dv = new DataView(out.buffer, out.byteOffset + offset, 8);
  dv.setUint32(0, h.timestamp >>> 0);
  dv.setUint16(4, (h.fromResponder ? 0x8000 : 0) | h.protocol);
  dv.setUint16(6, h.length);
  return out;
}

/** A whole segment (header + payload) as bytes. */
export function encodeSegment(s: Omit<Segment, 'length'> & { length?: number }): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_SIZE + s.payload.length);
  encodeSegmentHeader({ ...s, length: s.payload.length }, out);
  out.set(s.payload, SEGMENT_HEADER_SIZE);
  return out;
}

export function decodeSegmentHeader(b: Uint8Array, offset = 0): SegmentHeader {
  const dv = new DataView(b.buffer, b.byteOffset + offset, 8);
  const word = dv.getUint16(4);
  return {
    timestamp: dv.getUint32(0),
    fromResponder: (word & 0x8000) !== 0,
    protocol: word & 0x7fff,
    length: dv.getUint16(6),
  };
}

/**
 * Reassembles segments from arbitrary TCP reads: a read may end inside a header or a payload and
 * may hold many segments. Zero-length segments are rejected as the node does ("short SDU").
 * A payload cut by a read is filled into one buffer of its declared length, so a segment trickled
 * a byte per read costs its length once, not once per read.
 */
export class SegmentReader {
  private readonly head = new Uint8Array(SEGMENT_HEADER_SIZE);
  private headLen = 0;
  /** The segment whose payload is being filled, if any. */
  private current: SegmentHeader | undefined;
  private body: Uint8Array = EMPTY;
  private bodyLen = 0;

  /** Bytes held that do not yet form a whole segment. */
  get buffered(): number {
    return this.current ? SEGMENT_HEADER_SIZE + this.bodyLen : this.headLen;
  }

  /** Feeds one read; calls `onSegment` for each complete segment (payloads are views, copy to keep). */
  push(chunk: Uint8Array, onSegment: (s: Segment) => void, onHeader?: (protocol: number) => void): void {
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (!this.current) {
        let h: SegmentHeader;
        if (this.headLen === 0 && n - off >= SEGMENT_HEADER_SIZE) {
          h = decodeSegmentHeader(chunk, off);
          off += SEGMENT_HEADER_SIZE;
        } else {
          const take = Math.min(SEGMENT_HEADER_SIZE - this.headLen, n - off);
          this.head.set(chunk.subarray(off, off + take), this.headLen);
          this.headLen += take;
          off += take;
          if (this.headLen < SEGMENT_HEADER_SIZE) return;
          this.headLen = 0;
          h = decodeSegmentHeader(this.head);
        }
        if (h.length === 0) {
          throw new NetError('MUX_BAD_SEGMENT', `zero-length segment for mini-protocol ${h.protocol}`);
        }
        // A header already says whether the segment can be wanted: judging it now ends a peer that is
        // not speaking the protocol (an HTTP reply, say) at once instead of waiting for a payload.
        onHeader?.(h.protocol);
        if (n - off >= h.length) {
          onSegment({ ...h, payload: chunk.subarray(off, off + h.length) });
          off += h.length;
          continue;
        }
        this.current = h;
        this.body = Buffer.allocUnsafeSlow(h.length); // filled whole before it is used
        this.bodyLen = 0;
      }
      const h = this.current;
      const take = Math.min(h.length - this.bodyLen, n - off);
      this.body.set(chunk.subarray(off, off + take), this.bodyLen);
      this.bodyLen += take;
      off += take;
      if (this.bodyLen < h.length) return;
      const payload = this.body;
      this.current = undefined;
      this.body = EMPTY;
      this.bodyLen = 0;
      onSegment({ ...h, payload });
    }
  }
}
