/**
 * A thin CBOR term layer on cborg's tokeniser. cborg does the byte-level work; this layer builds a
 * tree that keeps what the Haskell codecs care about and plain decoding loses: whether an array or
 * map was indefinite-length (re-encoding must be byte-exact), map key order (handshake version
 * tables), and the raw bytes of tag-24 payloads (header hashes).
 */
import { encode as cborgEncode, Token, Tokenizer, Type } from 'cborg';

export type Term = number | bigint | string | boolean | null | undefined | Uint8Array | Term[] | CborMap | Tagged;

/** A tagged item, e.g. tag 24 "encoded CBOR data item". */
export class Tagged {
  constructor(
    readonly tag: number,
    readonly value: Term,
  ) {}
}

/** A map with its entries in wire order (cborg's object maps would reorder and stringify keys). */
export class CborMap {
  constructor(
    readonly entries: Array<[Term, Term]>,
    readonly indefinite = false,
  ) {}
}

const indefiniteArrays = new WeakSet<Term[]>();

/** Marks an array so that it is encoded with an indefinite length (`9f ... ff`), as Haskell does. */
export function indefinite<T extends Term[]>(a: T): T {
  indefiniteArrays.add(a);
  return a;
}

export function isIndefinite(a: Term[]): boolean {
  return indefiniteArrays.has(a);
}

/** Why bytes are not a CBOR item; `incomplete` means "valid so far, more bytes needed". */
export class CborError extends Error {
  constructor(
    message: string,
    readonly incomplete = false,
  ) {
    super(message);
    this.name = 'CborError';
  }
}

const MAX_DEPTH = 64;
const BREAK = Symbol('break');
const DECODE_OPTIONS = { strict: false, allowIndefinite: true, allowUndefined: true, allowBigInt: true } as const;

interface Tok {
  next(): Token;
  done(): boolean;
  pos(): number;
}

/**
 * "Incomplete" is the normal state of a stream decoder at the end of each segment, so it is one
 * shared instance: building an Error (with its stack) per segment would cost more than decoding.
 */
const INCOMPLETE = new CborError('CBOR item incomplete', true);

function nextToken(t: Tok): Token {
  if (t.done()) throw INCOMPLETE;
  try {
    return t.next();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/not enough data/.test(msg)) throw INCOMPLETE;
    throw new CborError(msg.replace(/^CBOR decode error: /, ''));
  }
}

function build(t: Tok, depth: number): Term | typeof BREAK {
  if (depth > MAX_DEPTH) throw new CborError(`CBOR nested deeper than ${MAX_DEPTH} levels`);
  const tok = nextToken(t);
  const type = tok.type;
  if (type === Type.break) return BREAK;
  if (type === Type.array) {
    const out: Term[] = [];
    const n = tok.value as number;
    if (n === Number.POSITIVE_INFINITY) {
      for (;;) {
        const v = build(t, depth + 1);
        if (v === BREAK) break;
        out.push(v);
      }
      indefiniteArrays.add(out);
    } else {
      for (let i = 0; i < n; i++) {
        const v = build(t, depth + 1);
        if (v === BREAK) throw new CborError('unexpected break inside a definite-length array');
        out.push(v);
      }
    }
    return out;
  }
  if (type === Type.map) {
    const entries: Array<[Term, Term]> = [];
    const n = tok.value as number;
    const indef = n === Number.POSITIVE_INFINITY;
    for (let i = 0; indef || i < n; i++) {
      const k = build(t, depth + 1);
      if (k === BREAK) {
        if (indef) break;
        throw new CborError('unexpected break inside a definite-length map');
      }
      const v = build(t, depth + 1);
      if (v === BREAK) throw new CborError('break in place of a map value');
      entries.push([k, v]);
    }
    return new CborMap(entries, indef);
  }
  if (type === Type.tag) {
    const inner = build(t, depth + 1);
    if (inner === BREAK) throw new CborError('break in place of a tagged item');
    return new Tagged(tok.value as number, inner);
  }
  if (type === Type.float) throw new CborError('floating-point numbers do not occur in these protocols');
  if (type === Type.negint) {
    const v = tok.value as number | bigint;
    return v;
  }
  if (type === Type.bytes) {
    const v = tok.value as Uint8Array;
    // a chunked (indefinite) byte string arrives as a break-delimited sequence; cborg handles it as a token
    return v;
  }
  return tok.value as Term;
}

/**
 * Decodes the first CBOR item of `bytes`; returns it and how many bytes it took. Throws
 * CborError(incomplete = true) when the bytes end inside the item.
 */
export function decodeFirstTerm(bytes: Uint8Array, offset = 0): { term: Term; length: number } {
  // A Buffer makes cborg's byte strings views instead of copies (Buffer#slice does not copy).
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = offset === 0 ? buf : buf.subarray(offset);
  if (data.length === 0) throw INCOMPLETE;
  const t = new Tokenizer(data, DECODE_OPTIONS) as unknown as Tok;
  const v = build(t, 0);
  if (v === BREAK) throw new CborError('unexpected break');
  return { term: v, length: t.pos() };
}

/** Deepest nesting the scanner follows; deeper input is malformed for these protocols (the decoder stops at 64). */
const MAX_SCAN_DEPTH = 128;
// What an open container on the scanner's stack is.
const DEFINITE = 0;
const INDEF_ARRAY = 1;
const INDEF_MAP = 2;
const INDEF_BYTES = 3;
const INDEF_TEXT = 4;

/**
 * Finds where CBOR items end in a byte stream that arrives in pieces, looking at each byte once:
 * only item heads are read (a head cut by a piece boundary is kept, at most 9 bytes), string
 * payloads are skipped by their declared length, and open containers are a stack of counts.
 * A stream decoder uses it to decode a message once, when its last byte is in, instead of
 * re-parsing the unfinished message from its start on every segment (a peer trickling one byte
 * per segment after a 60 KB prefix made that quadratic). It checks framing only (reserved heads,
 * misplaced breaks, chunks of indefinite strings); the decoder judges the content.
 */
export class CborItemScanner {
  /** Per open container: items still expected (definite) or items seen so far (indefinite). */
  private readonly counts: number[] = [];
  private readonly kinds: number[] = [];
  /** Payload bytes of a definite string still to pass over, and whether the string is an item. */
  private skip = 0;
  private skipIsItem = false;
  private readonly head = new Uint8Array(9);
  private headLen = 0;
  private headNeed = 0;

  /** Forgets a partly scanned item. */
  reset(): void {
    this.counts.length = 0;
    this.kinds.length = 0;
    this.skip = 0;
    this.headLen = 0;
  }

  /**
   * Scans `bytes` from `from`: returns the offset just past the end of the current item, or -1
   * when the bytes end inside it (the state is kept for the next piece). Throws a CborError
   * (not incomplete) when the framing is malformed.
   */
  feed(bytes: Uint8Array, from = 0): number {
    const n = bytes.length;
    let i = from;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        if (this.skip > 0) return -1;
        if (this.skipIsItem && this.itemDone()) return i;
        continue;
      }
      let ib: number;
      let arg: number;
      if (this.headLen === 0) {
        ib = bytes[i] as number;
        const extra = headExtra(ib & 31);
        if (n - i > extra) {
          arg = headArg(bytes, i, ib & 31);
          i += 1 + extra;
        } else {
          this.head.set(bytes.subarray(i, n), 0);
          this.headLen = n - i;
          this.headNeed = 1 + extra;
          return -1;
        }
      } else {
        const take = Math.min(this.headNeed - this.headLen, n - i);
        this.head.set(bytes.subarray(i, i + take), this.headLen);
        this.headLen += take;
        i += take;
        if (this.headLen < this.headNeed) return -1;
        this.headLen = 0;
        ib = this.head[0] as number;
        arg = headArg(this.head, 0, ib & 31);
      }
      if (this.onHead(ib >> 5, ib & 31, arg)) return i;
    }
    return -1;
  }

  /** Takes one item head; true when it completed the top-level item. */
  private onHead(major: number, ai: number, arg: number): boolean {
    const top = this.kinds.length - 1;
    const kind = top >= 0 ? (this.kinds[top] as number) : -1;
    if (kind === INDEF_BYTES || kind === INDEF_TEXT) {
      // Inside an indefinite string only definite chunks of its own type, then a break.
      if (major === 7 && ai === 31) {
        this.pop();
        return this.itemDone();
      }
      if (major !== (kind === INDEF_BYTES ? 2 : 3) || ai === 31) {
        throw new CborError('an indefinite-length string holds something other than definite chunks of its type');
      }
      this.skip = arg;
      this.skipIsItem = false;
      return false;
    }
    switch (major) {
      case 0:
      case 1:
        if (ai === 31) throw new CborError('an integer cannot be indefinite-length');
        return this.itemDone();
      case 2:
      case 3:
        if (ai === 31) {
          this.push(major === 2 ? INDEF_BYTES : INDEF_TEXT, 0);
          return false;
        }
        if (arg === 0) return this.itemDone();
        this.skip = arg;
        this.skipIsItem = true;
        return false;
      case 4:
      case 5:
        if (ai === 31) {
          this.push(major === 4 ? INDEF_ARRAY : INDEF_MAP, 0);
          return false;
        }
        if (arg === 0) return this.itemDone();
        this.push(DEFINITE, major === 4 ? arg : 2 * arg);
        return false;
      case 6:
        if (ai === 31) throw new CborError('a tag cannot be indefinite-length');
        this.push(DEFINITE, 1);
        return false;
      default:
        if (ai !== 31) return this.itemDone();
        if (kind !== INDEF_ARRAY && kind !== INDEF_MAP) throw new CborError('unexpected break');
        if (kind === INDEF_MAP && (this.counts[top] as number) % 2 !== 0)
          throw new CborError('break in place of a map value');
        this.pop();
        return this.itemDone();
    }
  }

  private push(kind: number, count: number): void {
    if (this.kinds.length >= MAX_SCAN_DEPTH) throw new CborError(`CBOR nested deeper than ${MAX_SCAN_DEPTH} levels`);
    this.kinds.push(kind);
    this.counts.push(count);
  }

  private pop(): void {
    this.kinds.pop();
    this.counts.pop();
  }

  /** One item finished: counts it in its container, closing finished definite containers. */
  private itemDone(): boolean {
    for (;;) {
      const top = this.kinds.length - 1;
      if (top < 0) return true;
      if (this.kinds[top] !== DEFINITE) {
        this.counts[top] = (this.counts[top] as number) + 1;
        return false;
      }
      const left = (this.counts[top] as number) - 1;
      if (left > 0) {
        this.counts[top] = left;
        return false;
      }
      this.pop();
    }
  }
}

/** Bytes after the initial byte of a head with this additional information. */
function headExtra(ai: number): number {
  if (ai < 24 || ai === 31) return 0;
  if (ai <= 27) return 1 << (ai - 24);
  throw new CborError(`reserved additional information ${ai}`);
}

/** The head's argument (a count, length or value; 64-bit values as the nearest number). */
function headArg(b: Uint8Array, at: number, ai: number): number {
  if (ai < 24) return ai;
  const p = at + 1;
  switch (ai) {
    case 24:
      return b[p] as number;
    case 25:
      return ((b[p] as number) << 8) | (b[p + 1] as number);
    case 26:
      return (
        (((b[p] as number) << 24) >>> 0) +
        (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))
      );
    case 27:
      return headArg(b, at, 26) * 0x100000000 + headArg(b, at + 4, 26);
    default:
      return Number.POSITIVE_INFINITY; // 31: indefinite
  }
}

/**
 * Reads the first `count` tokens of an item without building it (array and map tokens carry
 * their length in `value`). For headers, whose first fields are all a reader needs.
 */
export function readTokens(bytes: Uint8Array, count: number): Array<{ type: string; value: unknown }> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = new Tokenizer(buf, DECODE_OPTIONS) as unknown as Tok;
  const out: Array<{ type: string; value: unknown }> = [];
  for (let i = 0; i < count; i++) {
    const tok = nextToken(t);
    out.push({ type: tok.type.name, value: tok.value });
  }
  return out;
}

/** Decodes exactly one CBOR item; trailing bytes are an error. */
export function decodeTerm(bytes: Uint8Array): Term {
  const { term, length } = decodeFirstTerm(bytes);
  if (length !== bytes.length) throw new CborError(`${bytes.length - length} trailing bytes after the CBOR item`);
  return term;
}

function hasIndefinite(v: Term): boolean {
  if (Array.isArray(v)) return indefiniteArrays.has(v) || v.some(hasIndefinite);
  if (v instanceof CborMap) return v.indefinite || v.entries.some(([k, x]) => hasIndefinite(k) || hasIndefinite(x));
  if (v instanceof Tagged) return hasIndefinite(v.value);
  return false;
}

function toTokens(v: Term): unknown {
  if (Array.isArray(v)) return [new Token(Type.array, v.length), v.map(toTokens)];
  if (v instanceof Uint8Array) return new Token(Type.bytes, v);
  if (v instanceof Tagged) return [new Token(Type.tag, v.tag), toTokens(v.value)];
  if (v instanceof CborMap)
    return [new Token(Type.map, v.entries.length), v.entries.map(([k, x]) => [toTokens(k), toTokens(x)])];
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new CborError(`not an integer: ${v}`);
    return v < 0 ? new Token(Type.negint, v) : new Token(Type.uint, v);
  }
  if (typeof v === 'string') return new Token(Type.string, v);
  if (v === true) return new Token(Type.true, true);
  if (v === false) return new Token(Type.false, false);
  if (v === null) return new Token(Type.null, null);
  return new Token(Type.undefined, undefined);
}

const ENCODE_OPTIONS = {
  // Every container goes through toTokens, so CborMap order and tags survive (cborg would sort maps).
  typeEncoders: {
    Array: (v: unknown) => toTokens(v as Term),
    Object: (v: unknown) => toTokens(v as Term),
  },
};

const BREAK_BYTE = Uint8Array.of(0xff);

/** The header of a definite container of n items: cborg encodes n one-byte items, we keep the prefix. */
function definiteHeader(major: 4 | 5, n: number): Uint8Array {
  const full = cborgEncode(new Array<number>(n).fill(0));
  const h = full.slice(0, full.length - n);
  h[0] = ((h[0] as number) & 0x1f) | (major << 5);
  return h;
}

function encodeParts(v: Term, out: Uint8Array[]): void {
  if (!hasIndefinite(v)) {
    out.push(cborgEncode(v, ENCODE_OPTIONS as never));
    return;
  }
  // cborg writes no indefinite-length headers, so those containers are framed here (9f/bf ... ff).
  if (Array.isArray(v)) {
    const indef = indefiniteArrays.has(v);
    out.push(indef ? Uint8Array.of(0x9f) : definiteHeader(4, v.length));
    for (const x of v) encodeParts(x, out);
    if (indef) out.push(BREAK_BYTE);
  } else if (v instanceof CborMap) {
    out.push(v.indefinite ? Uint8Array.of(0xbf) : definiteHeader(5, v.entries.length));
    for (const [k, x] of v.entries) {
      encodeParts(k, out);
      encodeParts(x, out);
    }
    if (v.indefinite) out.push(BREAK_BYTE);
  } else if (v instanceof Tagged) {
    const tagged = cborgEncode(new Tagged(v.tag, null), ENCODE_OPTIONS as never);
    out.push(tagged.subarray(0, tagged.length - 1)); // drop the encoded null, keep the tag header
    encodeParts(v.value, out);
  }
}

/** Encodes a term with cborg (shortest integer forms, as the Haskell encoder). */
export function encodeTerm(v: Term): Uint8Array {
  if (!hasIndefinite(v)) return cborgEncode(v, ENCODE_OPTIONS as never);
  const parts: Uint8Array[] = [];
  encodeParts(v, parts);
  return concatBytes(parts);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Hex helpers (lower-case, as everywhere in spo). */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(h: string): Uint8Array {
  const s = h.trim();
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(s)) throw new Error('not a hex string');
  return new Uint8Array(Buffer.from(s, 'hex'));
}
