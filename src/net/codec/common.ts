import { CborError, type CborMap, decodeTerm, isIndefinite, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';

/** Decodes one whole CBOR message; CBOR-level problems become CodecErrors. */
export function decodeMessageTerm(bytes: Uint8Array): Term {
  try {
    return decodeTerm(bytes);
  } catch (e) {
    if (e instanceof CborError) throw new CodecError(`invalid CBOR: ${e.message}`);
    throw e;
  }
}

/**
 * The outer `[tag, ...fields]` of a message: a definite-length array (the Haskell decoders call
 * decodeListLen, which rejects indefinite ones) whose first element is a small unsigned tag.
 */
export function messageFields(term: Term, protocol: string): { tag: number; fields: Term[] } {
  if (!Array.isArray(term) || term.length === 0)
    throw new CodecError(`${protocol}: a message must be a non-empty array`);
  if (isIndefinite(term)) throw new CodecError(`${protocol}: the message array must be definite-length`);
  const tag = term[0];
  if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0)
    throw new CodecError(`${protocol}: bad message tag`);
  return { tag, fields: term.slice(1) };
}

export function arity(fields: Term[], n: number, what: string): void {
  if (fields.length !== n) throw new CodecError(`${what}: expected ${n} field(s), got ${fields.length}`);
}

export function uint(t: Term | undefined, max: number, what: string): number {
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > max) {
    throw new CodecError(`${what}: expected an unsigned integer <= ${max}`);
  }
  return t;
}

export function bool(t: Term | undefined, what: string): boolean {
  if (typeof t !== 'boolean') throw new CodecError(`${what}: expected a boolean`);
  return t;
}

export function bytes(t: Term | undefined, what: string, length?: number): Uint8Array {
  if (!(t instanceof Uint8Array)) throw new CodecError(`${what}: expected a byte string`);
  if (length !== undefined && t.length !== length)
    throw new CodecError(`${what}: expected ${length} bytes, got ${t.length}`);
  return t;
}

export function text(t: Term | undefined, what: string): string {
  if (typeof t !== 'string') throw new CodecError(`${what}: expected a text string`);
  return t;
}

export function array(t: Term | undefined, what: string, opts: { definite?: boolean } = {}): Term[] {
  if (!Array.isArray(t)) throw new CodecError(`${what}: expected an array`);
  if (opts.definite && isIndefinite(t)) throw new CodecError(`${what}: expected a definite-length array`);
  return t;
}

export function isMap(t: Term | undefined): t is CborMap {
  return typeof t === 'object' && t !== null && !Array.isArray(t) && !(t instanceof Uint8Array) && 'entries' in t;
}

export const WORD16 = 0xffff;
export const WORD32 = 0xffffffff;
export const WORD64 = Number.MAX_SAFE_INTEGER;
