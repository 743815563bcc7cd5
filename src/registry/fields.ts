/**
 * Strict field access for untrusted registry JSON: every failure is one line naming the file and the
 * JSON path of the field (`file: bigLedgerPools[3].relays[0].port: expected ...`).
 */
import { SpoError } from '../lib/errors.js';

/** Longest string accepted in any registry field (the ledger caps DNS names at 128 bytes). */
export const MAX_STRING = 255;

export type Json = unknown;
export type JsonObject = Record<string, unknown>;

/**
 * Where a value sits: the file and the JSON path, for error messages. Built lazily (a parent link
 * and one segment) because parsers create one per field and the string is only needed on error.
 */
export class FieldPath {
  constructor(
    readonly file: string,
    private readonly segment: string,
    private readonly parent?: FieldPath,
  ) {}
  key(k: string): FieldPath {
    return new FieldPath(this.file, k, this);
  }
  index(i: number): FieldPath {
    return new FieldPath(this.file, `[${i}]`, this);
  }
  get path(): string {
    const up = this.parent?.path ?? '';
    if (up === '') return this.segment;
    return this.segment.startsWith('[') ? up + this.segment : `${up}.${this.segment}`;
  }
  toString(): string {
    const p = this.path;
    return p === '' ? '(top level)' : p;
  }
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  return String(v);
}

/** The hint for a bad field: an HTTP source (labelled by its URL) is not a file. */
function badFieldHint(file: string): string {
  return /^https?:\/\//i.test(file)
    ? 'the server did not answer in the shape of the Koios/Blockfrost API; check --koios-url or --blockfrost-url'
    : 'the file is not a valid registry file of this kind; check where it came from';
}

export function fieldError(at: FieldPath, expected: string, got: unknown, code = 'REGISTRY_FIELD'): SpoError {
  return new SpoError(code, `${at.file}: ${at}: expected ${expected}, got ${describeValue(got)}`, {
    hint: badFieldHint(at.file),
    details: { file: at.file, field: at.path },
  });
}

export function missingField(at: FieldPath): SpoError {
  return new SpoError('REGISTRY_FIELD', `${at.file}: ${at}: required field is missing`, {
    hint: badFieldHint(at.file),
    details: { file: at.file, field: at.path },
  });
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObject(v: unknown, at: FieldPath): JsonObject {
  if (!isObject(v)) throw fieldError(at, 'an object', v);
  return v;
}

export function asArray(v: unknown, at: FieldPath): unknown[] {
  if (!Array.isArray(v)) throw fieldError(at, 'an array', v);
  return v;
}

export function asString(v: unknown, at: FieldPath, max = MAX_STRING): string {
  if (typeof v !== 'string') throw fieldError(at, 'a string', v);
  if (v.length > max) throw fieldError(at, `a string of at most ${max} characters`, v);
  return v;
}

export function optString(v: unknown, at: FieldPath, max = MAX_STRING): string | undefined {
  return v === undefined || v === null ? undefined : asString(v, at, max);
}

/** Longest ticker kept (the metadata standard says 3-5 characters). */
export const MAX_TICKER = 32;

/**
 * A pool's ticker from an API: any string, cut to MAX_TICKER characters. It comes from the
 * operator's off-chain metadata, which the user cannot fix, so an over-long one must not fail a
 * whole registry load (files stay strict: see optString).
 */
export function optTicker(v: unknown, at: FieldPath): string | undefined {
  const t = optString(v, at);
  return t !== undefined && t.length > MAX_TICKER ? t.slice(0, MAX_TICKER) : t;
}

export function asFiniteNumber(v: unknown, at: FieldPath): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fieldError(at, 'a number', v);
  return v;
}

export function asFraction(v: unknown, at: FieldPath): number {
  const n = asFiniteNumber(v, at);
  // a little slack above 1: accumulated floats in real snapshots end at 1.0000000000000002
  if (n < 0 || n > 1.000001) throw fieldError(at, 'a number between 0 and 1', v);
  return n;
}

export function asInteger(v: unknown, at: FieldPath, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw fieldError(at, `an integer ${min}-${max}`, v);
  }
  return v;
}

/** A port as it can appear in the ledger: an integer 0-65535 (0 is flagged later, not rejected). */
export function asPort(v: unknown, at: FieldPath): number {
  return asInteger(v, at, 0, 65535);
}

export function optPort(v: unknown, at: FieldPath): number | undefined {
  return v === undefined || v === null ? undefined : asPort(v, at);
}

/** A non-negative integer given as a number or a decimal string (lovelace amounts in APIs). */
export function asAmount(v: unknown, at: FieldPath): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,30}$/.test(v)) return Number(v);
  throw fieldError(at, 'a non-negative amount (number or decimal string)', v);
}
