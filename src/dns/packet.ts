/**
 * DNS messages on dns-packet, made safe for answers from the network: a structural walk checks every
 * length before dns-packet sees the bytes (dns-packet trusts counts and rdlengths), decoding errors
 * become DNS_MALFORMED, and oversized answers are refused. Pure: no I/O.
 */
import dnsPacket, { type Packet } from './dns-packet.js';
import { DnsError } from './errors.js';

export type QueryType = 'A' | 'AAAA' | 'SRV' | 'CNAME';

/** Records of one answer we may use; anything else is ignored. */
export interface Rr {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

export interface DnsResponse {
  id: number;
  rcode: string;
  truncated: boolean;
  authoritative: boolean;
  question: { name: string; type: string; class: string };
  answers: Rr[];
  /** SOA minimum from the authority section (negative caching, RFC 2308), when present. */
  negativeTtl: number | undefined;
}

/** The most records spo accepts in one answer: beyond this it is an attack or a broken zone. */
export const MAX_RECORDS = 1024;
/** A DNS message can never be longer (TCP framing has a 16-bit length). */
export const MAX_MESSAGE = 65535;
/** The EDNS UDP payload size spo advertises (DNS flag day 2020). */
export const EDNS_UDP_SIZE = 1232;

const TYPE_CODES: Record<QueryType, number> = { A: 1, CNAME: 5, AAAA: 28, SRV: 33 };

/** Labels of 1-63 letters, digits, `-` or `_`, joined by dots (one regular expression: no loop to interpret). */
const QUERYABLE = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/;

/** A name spo will send: letters, digits, `-`, `_`, labels of 1-63 bytes, at most 253 in all. */
export function isQueryableName(name: string): boolean {
  return name.length <= 253 && QUERYABLE.test(name);
}

/** The error for a name spo will not send. */
export function badName(name: string): DnsError {
  return new DnsError('DNS_BAD_NAME', `"${name}" is not a valid DNS name`, { details: { name } });
}

/** Lower-case, no trailing dot: the form names are compared in. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') && n.length > 1 ? n.slice(0, -1) : n;
}

/** A recursive query with an EDNS0 OPT record (so answers up to 1232 bytes fit in UDP). */
export function queryPacket(id: number, name: string, type: QueryType, edns = true): Packet {
  const packet: Packet = {
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
  };
  if (edns) {
    packet.additionals = [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: EDNS_UDP_SIZE,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ];
  }
  return packet;
}

/**
 * The same bytes as `dnsPacket.encode(queryPacket(...))` (a test checks it), written directly: a
 * query is one header, one question and one OPT record, and this is the hot path of bulk lookups.
 * Bytes are set by index rather than with Buffer's write helpers: in a fresh process each helper
 * call runs in the interpreter for thousands of queries before it is compiled.
 */
export function encodeQuery(id: number, name: string, type: QueryType, edns = true): Buffer {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const nameLength = n === '' ? 1 : Buffer.byteLength(n) + 2;
  const buf = Buffer.allocUnsafe(12 + nameLength + 4 + (edns ? 11 : 0));
  buf[0] = id >>> 8;
  buf[1] = id & 0xff;
  buf[2] = dnsPacket.RECURSION_DESIRED >>> 8;
  buf[3] = dnsPacket.RECURSION_DESIRED & 0xff;
  // 1 question, 0 answers, 0 authorities, 1 additional (the OPT record) or none
  for (let i = 4; i < 12; i++) buf[i] = 0;
  buf[5] = 1;
  if (edns) buf[11] = 1;
  let off = 12;
  if (n !== '') {
    // The whole name at once, one byte to the right; each label's length then goes where its dot
    // (or the start) is. A dot is one byte in UTF-8, so the label lengths are byte counts.
    const written = buf.write(n, 13);
    let lengthAt = 12;
    for (let i = 13; i <= 13 + written; i++) {
      if (i === 13 + written || buf[i] === 46) {
        const len = i - lengthAt - 1;
        if (len === 0 || len > 63) throw badName(name);
        buf[lengthAt] = len;
        lengthAt = i;
      }
    }
    off = 13 + written;
  }
  const code = TYPE_CODES[type];
  buf[off] = 0; // root label
  buf[off + 1] = code >>> 8;
  buf[off + 2] = code & 0xff;
  buf[off + 3] = 0;
  buf[off + 4] = 1; // class IN
  off += 5;
  if (edns) {
    for (let i = off; i < off + 11; i++) buf[i] = 0; // root name; extended rcode, version, flags; no options
    buf[off + 2] = 41; // OPT
    buf[off + 3] = EDNS_UDP_SIZE >>> 8;
    buf[off + 4] = EDNS_UDP_SIZE & 0xff;
  }
  return buf;
}

/**
 * Big-endian reads by index: Buffer's readUInt16BE and readUInt32BE are JavaScript functions of
 * their own (argument checks, then the read), which a fresh process interprets and then compiles
 * separately; the callers here have already checked every offset against the length.
 */
function u16(buf: Buffer, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}
function u32(buf: Buffer, at: number): number {
  return (
    (buf[at] as number) * 0x1000000 +
    (((buf[at + 1] as number) << 16) | ((buf[at + 2] as number) << 8) | (buf[at + 3] as number))
  );
}

function malformed(why: string): DnsError {
  return new DnsError('DNS_MALFORMED', `malformed DNS answer: ${why}`, { details: { reason: why } });
}

/** Skips a name in place; compression pointers must point backwards (no loops), lengths stay in the buffer. */
function skipName(buf: Buffer, start: number): number {
  let off = start;
  let length = 0;
  for (;;) {
    if (off >= buf.length) throw malformed('name runs past the end of the packet');
    const len = buf[off] as number;
    if (len === 0) return off + 1;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (off + 2 > buf.length) throw malformed('compression pointer runs past the end of the packet');
      const target = ((len & 0x3f) << 8) | (buf[off + 1] as number);
      if (target >= start) throw malformed('compression pointer points forward (a loop)');
      return off + 2;
    }
    if (kind !== 0) throw malformed(`unknown label type 0x${kind.toString(16)}`);
    off += 1 + len;
    length += len + 1;
    if (length > 255) throw malformed('name longer than 255 bytes');
    if (off > buf.length) throw malformed('label runs past the end of the packet');
  }
}

function validRecord(rr: Rr): boolean {
  switch (rr.type) {
    // checkStructure made A 4 bytes and AAAA 16: dns-packet can only have made an address of them
    case 'A':
    case 'AAAA':
      return typeof rr.data === 'string';
    case 'CNAME':
      return typeof rr.data === 'string' && rr.data.length > 0;
    case 'SRV': {
      const d = rr.data as { port?: unknown; target?: unknown; priority?: unknown; weight?: unknown };
      return (
        typeof d === 'object' &&
        d !== null &&
        typeof d.target === 'string' &&
        typeof d.port === 'number' &&
        typeof d.priority === 'number' &&
        typeof d.weight === 'number'
      );
    }
    default:
      return true;
  }
}

/**
 * dns-packet's decoders for one name or one record's data (exported by dns-packet, absent from its
 * type definitions). A record decoder takes the offset of the rdlength field.
 */
interface PartCodecs {
  name: { decode(buf: Buffer, offset: number): string };
  a: { decode(buf: Buffer, offset: number): string };
  aaaa: { decode(buf: Buffer, offset: number): string };
  cname: { decode(buf: Buffer, offset: number): string };
  srv: { decode(buf: Buffer, offset: number): { priority: number; weight: number; port: number; target: string } };
  soa: { decode(buf: Buffer, offset: number): { minimum?: number } };
}
const codecs = dnsPacket as unknown as PartCodecs;

const SOA = 6;
const TYPE_NAMES: Record<number, QueryType> = { 1: 'A', 5: 'CNAME', 28: 'AAAA', 33: 'SRV' };

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET'];
/** The header's 4-bit RCODE by name, as dns-packet names it. */
function rcodeName(code: number): string {
  return RCODES[code] ?? (code === 9 ? 'NOTAUTH' : code === 10 ? 'NOTZONE' : `RCODE_${code}`);
}

/**
 * Checks every record from `start` on (names, pointers, rdlengths, sizes of A, AAAA and SRV data),
 * and collects, as pairs (record start, end of its owner name), the answer records of class IN and
 * of the types spo uses, and the authority section's SOA records.
 */
function checkRecords(
  buf: Buffer,
  start: number,
  an: number,
  ns: number,
  records: number,
  answerAt: number[],
  soaAt: number[],
): void {
  let off = start;
  for (let i = 0; i < records; i++) {
    const recordAt = off;
    off = skipName(buf, off);
    const nameEnd = off;
    if (off + 10 > buf.length) throw malformed('record header runs past the end of the packet');
    const type = u16(buf, off);
    const rdlength = u16(buf, off + 8);
    off += 10;
    if (off + rdlength > buf.length) throw malformed('record data runs past the end of the packet');
    if (type === TYPE_CODES.A && rdlength !== 4) throw malformed(`A record of ${rdlength} bytes`);
    if (type === TYPE_CODES.AAAA && rdlength !== 16) throw malformed(`AAAA record of ${rdlength} bytes`);
    if (type === TYPE_CODES.SRV && rdlength < 7) throw malformed(`SRV record of ${rdlength} bytes`);
    if ((type === TYPE_CODES.SRV || type === TYPE_CODES.CNAME) && rdlength > 0) {
      const nameStart = off + (type === TYPE_CODES.SRV ? 6 : 0);
      if (skipName(buf, nameStart) > off + rdlength) throw malformed('record name runs past its data');
    }
    if (i < an) {
      // only class IN records are Internet addresses (a CH or HS record of type A is something else)
      if (TYPE_NAMES[type] !== undefined && u16(buf, nameEnd + 2) === 1) answerAt.push(recordAt, nameEnd);
    } else if (i < an + ns && type === SOA) soaAt.push(recordAt, nameEnd);
    off += rdlength;
  }
}

/** The data of one A, AAAA, CNAME or SRV record (`at`: its rdlength field), by dns-packet. */
function recordData(buf: Buffer, type: QueryType, at: number): unknown {
  switch (type) {
    case 'A':
      return codecs.a.decode(buf, at);
    case 'AAAA':
      return codecs.aaaa.decode(buf, at);
    case 'CNAME':
      return codecs.cname.decode(buf, at);
    default:
      return codecs.srv.decode(buf, at);
  }
}

/**
 * Decodes a response; anything wrong with it is a DnsError DNS_MALFORMED, never an exception of
 * dns-packet. One walk checks every count, name, pointer and rdlength of the whole message before any
 * part of it goes to dns-packet (which trusts them). Then only what spo uses is decoded, by
 * dns-packet: the question name, the answer records of types A, AAAA, CNAME and SRV, and the
 * authority section's SOA (negative caching). Other records (the OPT echo, glue, NS, signatures) are
 * checked but not decoded. An owner name that is a pointer to the question (as servers compress
 * their answers) is the question's name, decoded once. In a fresh process every decoder call runs
 * in the interpreter, so this is most of what bulk resolution costs before V8 has compiled it.
 */
export function decodeResponse(buf: Buffer): DnsResponse {
  if (buf.length < 12) throw malformed(`${buf.length} bytes, shorter than a DNS header`);
  if (buf.length > MAX_MESSAGE) throw malformed(`${buf.length} bytes, longer than any DNS message`);
  const flags = ((buf[2] as number) << 8) | (buf[3] as number);
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const records = an + ns + u16(buf, 10);
  if (qd !== 1) throw malformed(`${qd} questions (expected 1)`);
  if (records > MAX_RECORDS) throw malformed(`oversized answer: ${records} records (at most ${MAX_RECORDS})`);
  const questionEnd = skipName(buf, 12);
  if (questionEnd + 4 > buf.length) throw malformed('question runs past the end of the packet');
  const answerAt: number[] = [];
  const soaAt: number[] = [];
  checkRecords(buf, questionEnd + 4, an, ns, records, answerAt, soaAt);
  if ((flags & 0x8000) === 0) throw malformed('a query, not a response');
  let questionName: string;
  const answers: Rr[] = [];
  let negativeTtl: number | undefined;
  // dns-packet's errors (it should have none left after the walk) become DNS_MALFORMED
  try {
    questionName = normalizeName(codecs.name.decode(buf, 12));
    for (let i = 0; i < answerAt.length; i += 2) {
      const at = answerAt[i] as number;
      const nameEnd = answerAt[i + 1] as number;
      const type = TYPE_NAMES[u16(buf, nameEnd)] as QueryType;
      // 0xc00c: a pointer to offset 12, the question's name
      const name = buf[at] === 0xc0 && buf[at + 1] === 12 ? questionName : normalizeName(codecs.name.decode(buf, at));
      const rr: Rr = { name, type, ttl: u32(buf, nameEnd + 4), data: recordData(buf, type, nameEnd + 8) };
      if (!validRecord(rr)) throw malformed(`invalid ${rr.type} record for ${rr.name}`);
      answers.push(rr);
    }
    for (let i = 0; i < soaAt.length; i += 2) {
      const nameEnd = soaAt[i + 1] as number;
      const soa = codecs.soa.decode(buf, nameEnd + 8);
      const ttl = u32(buf, nameEnd + 4);
      if (typeof soa.minimum === 'number') negativeTtl = Math.min(soa.minimum, ttl);
    }
  } catch (error) {
    if (error instanceof DnsError) throw error;
    throw malformed(error instanceof Error ? error.message : String(error));
  }
  const questionType = u16(buf, questionEnd);
  const questionClass = u16(buf, questionEnd + 2);
  return {
    id: ((buf[0] as number) << 8) | (buf[1] as number),
    rcode: rcodeName(flags & 0xf),
    truncated: (flags & dnsPacket.TRUNCATED_RESPONSE) !== 0,
    authoritative: (flags & dnsPacket.AUTHORITATIVE_ANSWER) !== 0,
    question: {
      name: questionName,
      type: TYPE_NAMES[questionType] ?? `TYPE${questionType}`,
      class: questionClass === 1 ? 'IN' : `CLASS${questionClass}`,
    },
    answers,
    negativeTtl,
  };
}

/**
 * The common answer recognised without decoding it: a NOERROR, untruncated response whose question
 * is byte for byte the one `query` asked (its bytes up to `questionEnd`: name, type, class) and whose
 * answer section holds only records of the asked type owned by the question's name (the pointer
 * 0xC00C). The whole message is checked as decodeResponse checks it (a broken one throws
 * DNS_MALFORMED). Returns the answer records as pairs (record start, end of its owner name), for
 * `plainAddress`; undefined for any other answer (CNAME, NXDOMAIN, SERVFAIL, truncation, a question
 * in other case...), which then goes through decodeResponse. The id is the caller's to match (the
 * transport finds the waiting query by it). This is what bulk resolution runs for
 * almost every name, so it allocates one array and decodes nothing.
 */
export function plainAnswer(buf: Buffer, query: Buffer, questionEnd: number): number[] | undefined {
  if (buf.length < questionEnd || buf.length > MAX_MESSAGE) return undefined;
  // QR set, opcode QUERY, TC clear; RCODE NOERROR; exactly one question
  if (((buf[2] as number) & 0xfa) !== 0x80 || ((buf[3] as number) & 0x0f) !== 0) return undefined;
  if (buf[4] !== 0 || buf[5] !== 1) return undefined;
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const records = an + ns + u16(buf, 10);
  if (an === 0 || records > MAX_RECORDS) return undefined;
  for (let i = 12; i < questionEnd; i++) if (buf[i] !== query[i]) return undefined;
  const answerAt: number[] = [];
  const soaAt: number[] = [];
  checkRecords(buf, questionEnd, an, ns, records, answerAt, soaAt);
  if (answerAt.length !== 2 * an) return undefined;
  const typeHi = query[questionEnd - 4];
  const typeLo = query[questionEnd - 3];
  for (let i = 0; i < answerAt.length; i += 2) {
    const at = answerAt[i] as number;
    const nameEnd = answerAt[i + 1] as number;
    if (buf[at] !== 0xc0 || buf[at + 1] !== 12) return undefined;
    if (buf[nameEnd] !== typeHi || buf[nameEnd + 1] !== typeLo) return undefined;
    if (buf[nameEnd + 2] !== 0 || buf[nameEnd + 3] !== 1) return undefined; // class IN
  }
  return answerAt;
}

/** The TTL and address of one record of a `plainAnswer` (`nameEnd`: the end of its owner name), by dns-packet. */
export function plainTtl(buf: Buffer, nameEnd: number): number {
  return u32(buf, nameEnd + 4);
}
export function plainAddress(buf: Buffer, type: 'A' | 'AAAA', nameEnd: number): string {
  return type === 'A' ? codecs.a.decode(buf, nameEnd + 8) : codecs.aaaa.decode(buf, nameEnd + 8);
}

/** An answer is accepted only for the query it answers: same id, name, type and class (spoofing defence). */
export function matchesQuery(r: DnsResponse, id: number, name: string, type: QueryType): boolean {
  return (
    r.id === id && r.question.name === normalizeName(name) && r.question.type === type && r.question.class === 'IN'
  );
}
