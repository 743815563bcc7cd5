/**
 * The Cardano hard-fork-combinator wrapping of chain-sync headers (header.cddl; wire.md §6.3-6.4):
 * `[eraIndex, eraHeader]`, tag-24 bytes, the Byron EBB/main forms, block number and slot read per
 * era, and the header hash (blake2b-256 of the exact inner bytes; Byron with an `82 00`/`82 01` prefix).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { CborError, decodeTerm, Tagged, type Term } from './cbor.js';
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
  /** blake2b-256 block (header) hash. */
  hash: Uint8Array;
  /** Previous block hash; null for the first block after genesis. */
  prevHash: Uint8Array | null;
  /** The header's own CBOR bytes (the tag-24 content). */
  headerBytes: Uint8Array;
  /** Byron only: boundary (EBB) or main block, and the size hint of the wrapping. */
  byron?: { kind: 'ebb' | 'main'; sizeHint: number; epoch: number };
}

export interface DecodeHeaderOptions {
  byronEpochSlots?: number;
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
    return {
      era,
      eraName,
      slot,
      blockNo,
      hash: headerHash(0, headerBytes, kind),
      prevHash,
      headerBytes,
      byron: { kind, sizeHint, epoch },
    };
  }
  const headerBytes = tag24(outer[1], `${eraName} header`);
  const h = array(inner(headerBytes, `${eraName} header`), `${eraName} header`);
  if (h.length !== 2) throw new CodecError(`${eraName} header: expected [header_body, signature]`);
  const body = array(h[0], `${eraName} header body`);
  // TPraos eras (1-4) inline the opcert and protocol version: 15 fields; Praos eras (5+): 10.
  const want = era <= 4 ? 15 : 10;
  if (body.length !== want) throw new CodecError(`${eraName} header body: expected ${want} fields, got ${body.length}`);
  return {
    era,
    eraName,
    blockNo: uint(body[0], WORD64, 'block number'),
    slot: uint(body[1], WORD64, 'slot'),
    prevHash: nullableHash(body[2], 'previous hash'),
    hash: headerHash(era, headerBytes),
    headerBytes,
  };
}

/** `[era, #6.24(bytes)]` for Shelley-family eras. */
export function wrapHeader(era: number, headerBytes: Uint8Array): Term {
  if (era === 0) throw new Error('use wrapByronHeader for era 0');
  return [era, new Tagged(24, headerBytes)];
}

export function wrapByronHeader(kind: 'ebb' | 'main', sizeHint: number, headerBytes: Uint8Array): Term {
  return [0, [[kind === 'ebb' ? 0 : 1, sizeHint], new Tagged(24, headerBytes)]];
}
