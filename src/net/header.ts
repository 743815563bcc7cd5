/**
 * The Cardano hard-fork-combinator wrapping of chain-sync headers (header.cddl; wire.md §6.3-6.4):
 * `[eraIndex, eraHeader]`, tag-24 bytes, the Byron EBB/main forms, block number and slot read per
 * era, and the header hash (blake2b-256 of the exact inner bytes; Byron with an `82 00`/`82 01` prefix).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { CborError, decodeTerm, readTokens, Tagged, type Term } from './cbor.js';
import { array, bytes, uint, WORD32, WORD64 } from './codec/common.js';
import { CodecError } from './errors.js';

export const ERA_NAMES = ['byron', 'shelley', 'allegra', 'mary', 'alonzo', 'babbage', 'conway', 'dijkstra'] as const;
export type EraName = (typeof ERA_NAMES)[number];

/** Byron slots per epoch (10k; k = 2160 on mainnet and the public testnets). */
export const BYRON_EPOCH_SLOTS = 21600;

export interface HeaderInfo {
  era: number;
  eraName: EraName | `era${number}`;
  slot: number;
  blockNo: number;
  /** blake2b-256 block (header) hash (computed on first read). */
  readonly hash: Uint8Array;
  /** Previous block hash; null for the first block after genesis. */
  prevHash: Uint8Array | null;
  /** The header's own CBOR bytes (the tag-24 content). */
  headerBytes: Uint8Array;
  /** Byron only: boundary (EBB) or main block, and the size hint of the wrapping. */
  byron?: { kind: 'ebb' | 'main'; sizeHint: number; epoch: number };
}

export interface DecodeHeaderOptions {
  byronEpochSlots?: number;
  /** Decode the whole inner header, not only its first fields (slower; catches junk further in). */
  strict?: boolean;
}

export function blake2b256(data: Uint8Array): Uint8Array {
  return blake2b(data, { dkLen: 32 });
}

const BYRON_PREFIX = { ebb: Uint8Array.of(0x82, 0x00), main: Uint8Array.of(0x82, 0x01) };

/** The block hash of a header given its era and its raw bytes. */
export function headerHash(era: number, headerBytes: Uint8Array, byronKind?: 'ebb' | 'main'): Uint8Array {
  if (era !== 0) return blake2b256(headerBytes);
  const prefix = BYRON_PREFIX[byronKind ?? 'main'];
  const h = blake2b.create({ dkLen: 32 });
  h.update(prefix);
  h.update(headerBytes);
  return h.digest();
}

function tag24(t: Term | undefined, what: string): Uint8Array {
  if (!(t instanceof Tagged) || t.tag !== 24) throw new CodecError(`${what}: expected tag 24 (encoded CBOR)`);
  return bytes(t.value, what);
}

function inner(bytesIn: Uint8Array, what: string): Term {
  try {
    return decodeTerm(bytesIn);
  } catch (e) {
    if (e instanceof CborError) throw new CodecError(`${what}: invalid CBOR inside tag 24: ${e.message}`);
    throw e;
  }
}

function nullableHash(t: Term | undefined, what: string): Uint8Array | null {
  if (t === null) return null;
  return bytes(t, what, 32);
}

/**
 * A decoded header whose hash is computed on first use: blake2b-256 in JavaScript costs several
 * times the decoding itself, and a follower that only needs slot and block number should not pay.
 */
class DecodedHeader implements HeaderInfo {
  private cached: Uint8Array | undefined;
  constructor(
    readonly era: number,
    readonly eraName: HeaderInfo['eraName'],
    readonly slot: number,
    readonly blockNo: number,
    readonly prevHash: Uint8Array | null,
    readonly headerBytes: Uint8Array,
    readonly byronKind: 'ebb' | 'main' | undefined,
  ) {}
  get hash(): Uint8Array {
    this.cached ??= headerHash(this.era, this.headerBytes, this.byronKind);
    return this.cached;
  }
}

/** Reads a wrapped chain-sync header (the `header` of MsgRollForward). */
export function decodeHeader(term: Term, options: DecodeHeaderOptions = {}): HeaderInfo {
  const outer = array(term, 'header');
  if (outer.length !== 2) throw new CodecError('header: expected [eraIndex, eraHeader]');
  const era = uint(outer[0], 255, 'header era index');
  const eraName = (ERA_NAMES[era] ?? `era${era}`) as HeaderInfo['eraName'];
  if (era === 0) {
    const w = array(outer[1], 'Byron header');
    if (w.length !== 2) throw new CodecError('Byron header: expected [[subtag, sizeHint], bytes]');
    const sub = array(w[0], 'Byron header subtag');
    if (sub.length !== 2) throw new CodecError('Byron header: expected [subtag, sizeHint]');
    const subtag = uint(sub[0], 1, 'Byron header subtag');
    const sizeHint = uint(sub[1], WORD32, 'Byron size hint');
    const headerBytes = tag24(w[1], 'Byron header');
    const kind = subtag === 0 ? 'ebb' : 'main';
    const h = array(inner(headerBytes, 'Byron header'), 'Byron header');
    if (h.length !== 5) throw new CodecError('Byron header: expected 5 fields');
    const prevHash = bytes(h[1], 'Byron prevBlock', 32);
    const cons = array(h[3], 'Byron consensus data');
    const epochSlots = options.byronEpochSlots ?? BYRON_EPOCH_SLOTS;
    let epoch: number;
    let slot: number;
    let blockNo: number;
    if (kind === 'ebb') {
      epoch = uint(cons[0], WORD64, 'Byron EBB epoch');
      blockNo = uint(array(cons[1], 'Byron difficulty')[0], WORD64, 'Byron difficulty');
      slot = epoch * epochSlots;
    } else {
      const slotId = array(cons[0], 'Byron slot id');
      epoch = uint(slotId[0], WORD64, 'Byron epoch');
      slot = epoch * epochSlots + uint(slotId[1], WORD64, 'Byron slot in epoch');
      blockNo = uint(array(cons[2], 'Byron difficulty')[0], WORD64, 'Byron difficulty');
    }
    const info: HeaderInfo = new DecodedHeader(era, eraName, slot, blockNo, prevHash, headerBytes, kind);
    info.byron = { kind, sizeHint, epoch };
    return info;
  }
  const headerBytes = tag24(outer[1], `${eraName} header`);
  // TPraos eras (1-4) inline the opcert and protocol version: 15 fields; Praos eras (5+): 10.
  const want = era <= 4 ? 15 : 10;
  if (options.strict) {
    // whole-header validation (the fast path below reads only what it needs)
    const h = array(inner(headerBytes, `${eraName} header`), `${eraName} header`);
    if (h.length !== 2) throw new CodecError(`${eraName} header: expected [header_body, signature]`);
    const body = array(h[0], `${eraName} header body`);
    if (body.length !== want)
      throw new CodecError(`${eraName} header body: expected ${want} fields, got ${body.length}`);
    uint(body[0], WORD64, 'block number');
    uint(body[1], WORD64, 'slot');
    nullableHash(body[2], 'previous hash');
  }
  // [ [blockNo, slot, prevHash, ...], signature ]: the first five tokens say everything needed.
  let toks: Array<{ type: string; value: unknown }>;
  try {
    toks = readTokens(headerBytes, 5);
  } catch (e) {
    throw new CodecError(
      `${eraName} header: invalid CBOR inside tag 24: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const [outerTok, bodyTok, blockTok, slotTok, prevTok] = toks as [Tok5, Tok5, Tok5, Tok5, Tok5];
  if (outerTok.type !== 'array' || outerTok.value !== 2) {
    throw new CodecError(`${eraName} header: expected [header_body, signature]`);
  }
  if (bodyTok.type !== 'array' || bodyTok.value !== want) {
    throw new CodecError(
      `${eraName} header body: expected ${want} fields, got ${bodyTok.type === 'array' ? String(bodyTok.value) : bodyTok.type}`,
    );
  }
  if (blockTok.type !== 'uint' || typeof blockTok.value !== 'number')
    throw new CodecError('block number: expected an unsigned integer');
  if (slotTok.type !== 'uint' || typeof slotTok.value !== 'number')
    throw new CodecError('slot: expected an unsigned integer');
  let prevHash: Uint8Array | null;
  if (prevTok.type === 'null') prevHash = null;
  else if (prevTok.type === 'bytes' && (prevTok.value as Uint8Array).length === 32)
    prevHash = prevTok.value as Uint8Array;
  else throw new CodecError('previous hash: expected 32 bytes or null');
  return new DecodedHeader(era, eraName, slotTok.value, blockTok.value, prevHash, headerBytes, undefined);
}

type Tok5 = { type: string; value: unknown };

/** `[era, #6.24(bytes)]` for Shelley-family eras. */
export function wrapHeader(era: number, headerBytes: Uint8Array): Term {
  if (era === 0) throw new Error('use wrapByronHeader for era 0');
  return [era, new Tagged(24, headerBytes)];
}

export function wrapByronHeader(kind: 'ebb' | 'main', sizeHint: number, headerBytes: Uint8Array): Term {
  return [0, [[kind === 'ebb' ? 0 : 1, sizeHint], new Tagged(24, headerBytes)]];
}
