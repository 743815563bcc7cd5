/**
 * DNS messages on dns-packet, made safe for answers from the network: a structural walk checks every
 * length before dns-packet sees the bytes (dns-packet trusts counts and rdlengths), decoding errors
 * become DNS_MALFORMED, and oversized answers are refused. Pure: no I/O.
 */
import dnsPacket from 'dns-packet';
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

const NAME_CHARS = /^[a-z0-9_.-]+$/;

/** A name spo will send: letters, digits, `-`, `_`, labels of 1-63 bytes, at most 253 in all. */
export function isQueryableName(name: string): boolean {
  if (name.length === 0 || name.length > 253 || !NAME_CHARS.test(name)) return false;
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i === name.length || name.charCodeAt(i) === 46) {
      const len = i - start;
      if (len === 0 || len > 63) return false;
      start = i + 1;
    }
  }
  return true;
}

/** Lower-case, no trailing dot: the form names are compared in. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') && n.length > 1 ? n.slice(0, -1) : n;
}

/** A recursive query with an EDNS0 OPT record (so answers up to 1232 bytes fit in UDP). */
export function queryPacket(id: number, name: string, type: QueryType, edns = true): dnsPacket.Packet {
  const packet: dnsPacket.Packet = {
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
 */
export function encodeQuery(id: number, name: string, type: QueryType, edns = true): Buffer {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const nameLength = n === '' ? 1 : Buffer.byteLength(n) + 2;
  const buf = Buffer.allocUnsafe(12 + nameLength + 4 + (edns ? 11 : 0));
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(dnsPacket.RECURSION_DESIRED, 2);
  buf.writeUInt32BE(0x00010000, 4); // 1 question, 0 answers
  buf.writeUInt32BE(edns ? 1 : 0, 8); // 0 authorities, 1 additional (OPT)
  let off = 12;
  if (n !== '') {
    for (const label of n.split('.')) {
      const len = buf.write(label, off + 1);
      if (len === 0 || len > 63) throw new DnsError('DNS_BAD_NAME', `"${name}" is not a valid DNS name`);
      buf[off] = len;
      off += len + 1;
    }
  }
  buf[off++] = 0;
  buf.writeUInt16BE(TYPE_CODES[type], off);
  buf.writeUInt16BE(1, off + 2); // class IN
  off += 4;
  if (edns) {
    buf[off] = 0; // root name
    buf.writeUInt16BE(41, off + 1); // OPT
    buf.writeUInt16BE(EDNS_UDP_SIZE, off + 3);
    buf.writeUInt32BE(0, off + 5); // extended rcode, version, flags
    buf.writeUInt16BE(0, off + 9); // no options
  }
  return buf;
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

/**
 * Checks every count and length of a message before it is decoded; returns the offset where the
 * additional section starts.
 */
export function checkStructure(buf: Buffer): number {
  if (buf.length < 12) throw malformed(`${buf.length} bytes, shorter than a DNS header`);
  if (buf.length > MAX_MESSAGE) throw malformed(`${buf.length} bytes, longer than any DNS message`);
  const qd = buf.readUInt16BE(4);
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  const beforeAdditional = buf.readUInt16BE(6) + buf.readUInt16BE(8);
  let additionalAt = -1;
  if (qd !== 1) throw malformed(`${qd} questions (expected 1)`);
  if (records > MAX_RECORDS) throw malformed(`oversized answer: ${records} records (at most ${MAX_RECORDS})`);
  let off = skipName(buf, 12) + 4;
  if (off > buf.length) throw malformed('question runs past the end of the packet');
  for (let i = 0; i < records; i++) {
    if (i === beforeAdditional) additionalAt = off;
    off = skipName(buf, off);
    if (off + 10 > buf.length) throw malformed('record header runs past the end of the packet');
    const type = buf.readUInt16BE(off);
    const rdlength = buf.readUInt16BE(off + 8);
    off += 10;
    if (off + rdlength > buf.length) throw malformed('record data runs past the end of the packet');
    if (type === TYPE_CODES.A && rdlength !== 4) throw malformed(`A record of ${rdlength} bytes`);
    if (type === TYPE_CODES.AAAA && rdlength !== 16) throw malformed(`AAAA record of ${rdlength} bytes`);
    if (type === TYPE_CODES.SRV && rdlength < 7) throw malformed(`SRV record of ${rdlength} bytes`);
    if ((type === TYPE_CODES.SRV || type === TYPE_CODES.CNAME) && rdlength > 0) {
      const nameStart = off + (type === TYPE_CODES.SRV ? 6 : 0);
      if (skipName(buf, nameStart) > off + rdlength) throw malformed('record name runs past its data');
    }
    off += rdlength;
  }
  return additionalAt < 0 ? off : additionalAt;
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

/** Decodes a response; anything wrong with it is a DnsError DNS_MALFORMED, never an exception of dns-packet. */
export function decodeResponse(buf: Buffer): DnsResponse {
  const additionalAt = checkStructure(buf);
  // spo uses no additional record (the OPT echo, glue): dns-packet decodes the message without them.
  let message = buf;
  if (buf.readUInt16BE(10) > 0) {
    message = Buffer.from(buf.subarray(0, additionalAt));
    message.writeUInt16BE(0, 10);
  }
  let p: dnsPacket.DecodedPacket;
  try {
    p = dnsPacket.decode(message);
  } catch (error) {
    throw malformed(error instanceof Error ? error.message : String(error));
  }
  if (p.type !== 'response') throw malformed('a query, not a response');
  const q = p.questions?.[0];
  if (!q) throw malformed('no question');
  const answers: Rr[] = [];
  for (const a of p.answers ?? []) {
    const rr = a as unknown as Rr;
    if (typeof rr.ttl !== 'number' || typeof rr.name !== 'string') throw malformed('record without TTL or name');
    if (!validRecord(rr)) throw malformed(`invalid ${rr.type} record for ${rr.name}`);
    rr.name = normalizeName(rr.name); // dns-packet's own object, kept (no copy on the hot path)
    answers.push(rr);
  }
  let negativeTtl: number | undefined;
  for (const a of p.authorities ?? []) {
    if (a.type === 'SOA' && typeof a.data === 'object' && a.data !== null) {
      const soa = a.data as { minimum?: number };
      if (typeof soa.minimum === 'number') negativeTtl = Math.min(soa.minimum, a.ttl ?? soa.minimum);
    }
  }
  return {
    id: p.id ?? -1,
    rcode: (p as { rcode?: string }).rcode ?? 'NOERROR',
    truncated: Boolean(p.flag_tc),
    authoritative: Boolean(p.flag_aa),
    question: { name: normalizeName(q.name), type: q.type, class: q.class ?? 'IN' },
    answers,
    negativeTtl,
  };
}

/** An answer is accepted only for the query it answers: same id, name, type and class (spoofing defence). */
export function matchesQuery(r: DnsResponse, id: number, name: string, type: QueryType): boolean {
  return (
    r.id === id && r.question.name === normalizeName(name) && r.question.type === type && r.question.class === 'IN'
  );
}
