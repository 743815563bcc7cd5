/**
 * Peer-sharing (mini-protocol 10) messages, v14 address form (wire.md §7, peer-sharing-v14.cddl).
 * Address words follow the Haskell node, not the other implementations (wire.md §7.2): the IPv4
 * word is the four octets read little-endian; each IPv6 word is its 4-octet group read big-endian.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { encodeTerm, indefinite, isIndefinite, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { arity, array, decodeMessageTerm, messageFields, uint, WORD16, WORD32 } from './common.js';

export interface PeerAddress {
  family: 4 | 6;
  /** Dotted quad, or an IPv6 address in its compressed form. */
  address: string;
  port: number;
}

export type PeerSharingMessage =
  | { type: 'ShareRequest'; amount: number }
  | { type: 'SharePeers'; peers: PeerAddress[]; indefinite?: boolean }
  | { type: 'Done' };

export function ipv4ToWord(address: string): number {
  const o = address.split('.').map(Number);
  return ((o[0] as number) | ((o[1] as number) << 8) | ((o[2] as number) << 16) | ((o[3] as number) << 24)) >>> 0;
}

export function wordToIpv4(w: number): string {
  return [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff].join('.');
}

/** The 8 groups of an IPv6 address (also handles embedded IPv4 such as ::ffff:1.2.3.4). */
export function ipv6Groups(address: string): number[] {
  let s = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = (v4[1] as string).split('.').map(Number);
    s = `${s.slice(0, v4.index)}${(((o[0] as number) << 8) | (o[1] as number)).toString(16)}:${(((o[2] as number) << 8) | (o[3] as number)).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...new Array<string>(zeros).fill('0'), ...t].map((g) => Number.parseInt(g, 16));
}

/** Compressed text form (RFC 5952: longest run of two or more zero groups becomes ::). */
export function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] === 0) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else i++;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipv6ToWords(address: string): number[] {
  const g = ipv6Groups(address);
  return [0, 1, 2, 3].map((i) => (((g[2 * i] as number) << 16) | (g[2 * i + 1] as number)) >>> 0);
}

export function wordsToIpv6(words: number[]): string {
  const groups: number[] = [];
  for (const w of words) groups.push((w >>> 16) & 0xffff, w & 0xffff);
  return formatIpv6(groups);
}

export function encodePeerAddress(p: PeerAddress): Term {
  if (p.family === 4) {
    if (!isIPv4(p.address)) throw new CodecError(`not an IPv4 address: ${p.address}`);
    return [0, ipv4ToWord(p.address), p.port];
  }
  if (!isIPv6(p.address)) throw new CodecError(`not an IPv6 address: ${p.address}`);
  return [1, ...ipv6ToWords(p.address), p.port];
}

export function decodePeerAddress(t: Term): PeerAddress {
  const a = array(t, 'peer address', { definite: true });
  const kind = uint(a[0], 1, 'peer address kind');
  if (kind === 0) {
    arity(a, 3, 'IPv4 peer address');
    return { family: 4, address: wordToIpv4(uint(a[1], WORD32, 'IPv4 word')), port: uint(a[2], WORD16, 'port') };
  }
  arity(a, 6, 'IPv6 peer address');
  const words = [1, 2, 3, 4].map((i) => uint(a[i], WORD32, 'IPv6 word'));
  return { family: 6, address: wordsToIpv6(words), port: uint(a[5], WORD16, 'port') };
}

export function encodePeerSharing(m: PeerSharingMessage): Uint8Array {
  switch (m.type) {
    case 'ShareRequest':
      return encodeTerm([0, m.amount]);
    case 'SharePeers': {
      const list: Term[] = m.peers.map(encodePeerAddress);
      if (m.indefinite ?? m.peers.length > 0) indefinite(list);
      return encodeTerm([1, list]);
    }
    case 'Done':
      return encodeTerm([2]);
  }
}

export function decodePeerSharingTerm(term: Term): PeerSharingMessage {
  const { tag, fields } = messageFields(term, 'peer-sharing');
  switch (tag) {
    case 0:
      arity(fields, 1, 'MsgShareRequest');
      return { type: 'ShareRequest', amount: uint(fields[0], 0xff, 'share request amount') };
    case 1: {
      arity(fields, 1, 'MsgSharePeers');
      const list = array(fields[0], 'MsgSharePeers addresses');
      return { type: 'SharePeers', peers: list.map(decodePeerAddress), indefinite: isIndefinite(list) };
    }
    case 2:
      arity(fields, 0, 'MsgDone');
      return { type: 'Done' };
    default:
      throw new CodecError(`peer-sharing: unknown message tag ${tag}`);
  }
}

export function decodePeerSharing(bytes: Uint8Array): PeerSharingMessage {
  return decodePeerSharingTerm(decodeMessageTerm(bytes));
}
