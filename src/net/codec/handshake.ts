/**
 * Handshake (mini-protocol 0) messages and node-to-node version data (v14, v15, v16), as the
 * Haskell codec reads and writes them (wire.md §4, handshake-node-to-node-v14.cddl).
 */
import { CborMap, encodeTerm, isIndefinite, type Term } from '../cbor.js';
import { CodecError } from '../errors.js';
import { arity, array, decodeMessageTerm, isMap, messageFields, text, uint, WORD32 } from './common.js';

/** Versions this implementation can negotiate; 16 is experimental (behind a flag). */
export const SUPPORTED_VERSIONS = [14, 15, 16] as const;
export const DEFAULT_VERSIONS = [14, 15] as const;
/** The versions the node's version codec recognises (its own); others are skipped in a table. */
const KNOWN_VERSIONS = SUPPORTED_VERSIONS;

export interface VersionData {
  networkMagic: number;
  /** true = this side runs only initiator protocols (will not serve on this connection). */
  initiatorOnly: boolean;
  /** 1 = takes part in peer sharing. */
  peerSharing: 0 | 1;
  /** true = "send me your version table and close". */
  query: boolean;
  /** v16 only. */
  perasSupport?: boolean;
}

/** One entry of a version table; `data` is kept as CBOR because only the chosen version's data is decoded. */
export interface VersionEntry {
  version: number;
  data: Term;
}

export type RefuseReason =
  | { kind: 'VersionMismatch'; versions: number[] }
  | { kind: 'HandshakeDecodeError'; version: number; message: string }
  | { kind: 'Refused'; version: number; message: string };

export type HandshakeMessage =
  | { type: 'ProposeVersions'; versions: VersionEntry[] }
  | { type: 'AcceptVersion'; version: number; data: Term }
  | { type: 'Refuse'; reason: RefuseReason }
  | { type: 'QueryReply'; versions: VersionEntry[] };

export function encodeVersionData(version: number, d: VersionData): Term {
  const fields: Term[] = [d.networkMagic, d.initiatorOnly, d.peerSharing, d.query];
  if (version >= 16) fields.push(d.perasSupport ?? false);
  return fields;
}

/** Decodes version data for one version with the Haskell decoder's rules and texts (wire.md §4.3). */
export function decodeVersionData(version: number, t: Term): VersionData {
  if (!Array.isArray(t) || isIndefinite(t)) {
    throw new CodecError('unexpected encoding when decoding NodeToNodeVersionData: not a definite list');
  }
  const a = t;
  // The node pattern-matches a definite list of exactly 4 (v14/15) or 5 (v16) terms.
  const want = version >= 16 ? 5 : 4;
  if (a.length !== want) {
    if (a.length === 4 || a.length === 5) {
      throw new CodecError(`invalid encoding for perasSupport given the version ${version}`);
    }
    throw new CodecError(`unexpected encoding when decoding NodeToNodeVersionData: ${a.length} fields`);
  }
  const [magic, mode, ps, query, peras] = a;
  if (typeof magic !== 'number' || !Number.isInteger(magic) || magic < 0 || magic > WORD32) {
    throw new CodecError(`networkMagic out of bound: ${String(magic)}`);
  }
  if (typeof mode !== 'boolean')
    throw new CodecError('unexpected encoding when decoding NodeToNodeVersionData: diffusion mode');
  if (typeof ps !== 'number' || (ps !== 0 && ps !== 1))
    throw new CodecError(`peerSharing is out of bound: ${String(ps)}`);
  if (typeof query !== 'boolean')
    throw new CodecError('unexpected encoding when decoding NodeToNodeVersionData: query');
  const out: VersionData = { networkMagic: magic, initiatorOnly: mode, peerSharing: ps, query };
  if (version >= 16) {
    if (typeof peras !== 'boolean')
      throw new CodecError(`invalid encoding for perasSupport given the version ${version}`);
    out.perasSupport = peras;
  }
  return out;
}

function encodeTable(versions: VersionEntry[]): CborMap {
  return new CborMap(versions.map((v) => [v.version, v.data] as [Term, Term]));
}

/**
 * Reads a version table as the node's `decodeVersions` does (wire.md §3): a definite map whose
 * keys it knows must be strictly ascending; a key it does not know (a version number it does not
 * speak, such as 13 or 70000, or a key that is not an integer at all) is skipped without the
 * ordering check. Unknown integer versions are kept, marked, so a query reply can still show the
 * peer's whole table; a proposal's unknown versions never match ours.
 */
function decodeTable(t: Term | undefined, what: string): VersionEntry[] {
  if (!isMap(t)) throw new CodecError(`${what}: expected a map of versions`);
  if (t.indefinite) throw new CodecError(`${what}: the version table must be a definite-length map`);
  const out: VersionEntry[] = [];
  let last = -1;
  for (const [k, v] of t.entries) {
    if (typeof k !== 'number' || !Number.isSafeInteger(k)) continue; // not an integer: skipped
    if (!(KNOWN_VERSIONS as readonly number[]).includes(k)) {
      if (k >= 0 && k <= WORD32) out.push({ version: k, data: v });
      continue;
    }
    if (k <= last) throw new CodecError(`${what}: unordered version ${k}`);
    last = k;
    out.push({ version: k, data: v });
  }
  return out;
}

function encodeRefuse(r: RefuseReason): Term {
  switch (r.kind) {
    case 'VersionMismatch':
      return [0, r.versions];
    case 'HandshakeDecodeError':
      return [1, r.version, r.message];
    case 'Refused':
      return [2, r.version, r.message];
  }
}

function decodeRefuse(t: Term | undefined): RefuseReason {
  const a = array(t, 'refuse reason', { definite: true });
  const kind = uint(a[0], 2, 'refuse reason tag');
  if (kind === 0) {
    arity(a, 2, 'VersionMismatch');
    const list = array(a[1], 'VersionMismatch versions');
    // As the node's decoder: entries that are not version numbers are left out, not an error.
    const versions = list.filter((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
    return { kind: 'VersionMismatch', versions };
  }
  arity(a, 3, kind === 1 ? 'HandshakeDecodeError' : 'Refused');
  const version = uint(a[1], 0xffff, 'refused version');
  const message = text(a[2], 'refuse text');
  return kind === 1 ? { kind: 'HandshakeDecodeError', version, message } : { kind: 'Refused', version, message };
}

export function encodeHandshake(m: HandshakeMessage): Uint8Array {
  switch (m.type) {
    case 'ProposeVersions':
      return encodeTerm([0, encodeTable(m.versions)]);
    case 'AcceptVersion':
      return encodeTerm([1, m.version, m.data]);
    case 'Refuse':
      return encodeTerm([2, encodeRefuse(m.reason)]);
    case 'QueryReply':
      return encodeTerm([3, encodeTable(m.versions)]);
  }
}

export function decodeHandshakeTerm(term: Term): HandshakeMessage {
  const { tag, fields } = messageFields(term, 'handshake');
  switch (tag) {
    case 0:
      arity(fields, 1, 'MsgProposeVersions');
      return { type: 'ProposeVersions', versions: decodeTable(fields[0], 'MsgProposeVersions') };
    case 1:
      arity(fields, 2, 'MsgAcceptVersion');
      return { type: 'AcceptVersion', version: uint(fields[0], 0xffff, 'accepted version'), data: fields[1] as Term };
    case 2:
      arity(fields, 1, 'MsgRefuse');
      return { type: 'Refuse', reason: decodeRefuse(fields[0]) };
    case 3:
      arity(fields, 1, 'MsgQueryReply');
      return { type: 'QueryReply', versions: decodeTable(fields[0], 'MsgQueryReply') };
    default:
      throw new CodecError(`handshake: unknown message tag ${tag}`);
  }
}

export function decodeHandshake(bytes: Uint8Array): HandshakeMessage {
  return decodeHandshakeTerm(decodeMessageTerm(bytes));
}

/** A version table in which every version carries the same data. */
export function versionTable(versions: readonly number[], data: VersionData): VersionEntry[] {
  return [...versions].sort((a, b) => a - b).map((version) => ({ version, data: encodeVersionData(version, data) }));
}

/** The refusal in words, for people. */
export function describeRefusal(r: RefuseReason): string {
  switch (r.kind) {
    case 'VersionMismatch':
      return `no common protocol version (the peer supports ${r.versions.length ? r.versions.join(', ') : 'none'})`;
    case 'HandshakeDecodeError':
      return `the peer could not decode our version data for version ${r.version}: ${r.message}`;
    case 'Refused':
      return `the peer refused version ${r.version}: ${r.message}`;
  }
}

/**
 * The agreed record, computed as the Haskell `Acceptable` instance does (wire.md §4.4): magics must
 * be equal; initiator-only if either side is; peer sharing only if both; query if either; Peras
 * only if both. Returns undefined when the magics differ.
 */
export function combineVersionData(local: VersionData, remote: VersionData): VersionData | undefined {
  if (local.networkMagic !== remote.networkMagic) return undefined;
  const out: VersionData = {
    networkMagic: local.networkMagic,
    initiatorOnly: local.initiatorOnly || remote.initiatorOnly,
    peerSharing: local.peerSharing === 1 && remote.peerSharing === 1 ? 1 : 0,
    query: local.query || remote.query,
  };
  if (local.perasSupport !== undefined || remote.perasSupport !== undefined) {
    out.perasSupport = (local.perasSupport ?? false) && (remote.perasSupport ?? false);
  }
  return out;
}

/** The Haskell Show form of a version-data record, used in "version data mismatch" texts. */
export function showVersionData(d: VersionData): string {
  const mode = d.initiatorOnly ? 'InitiatorOnlyDiffusionMode' : 'InitiatorAndResponderDiffusionMode';
  const ps = d.peerSharing === 1 ? 'PeerSharingEnabled' : 'PeerSharingDisabled';
  const peras =
    d.perasSupport === undefined ? '' : `, perasSupport = ${d.perasSupport ? 'PerasSupported' : 'PerasUnsupported'}`;
  return `NodeToNodeVersionData {networkMagic = NetworkMagic {unNetworkMagic = ${d.networkMagic}}, diffusionMode = ${mode}, peerSharing = ${ps}, query = ${d.query ? 'True' : 'False'}${peras}}`;
}

export type AcceptDecision =
  | { kind: 'accept'; version: number; data: VersionData }
  | { kind: 'query'; versions: VersionEntry[] }
  | { kind: 'refuse'; reason: RefuseReason };

/**
 * The acceptor's answer to a proposal (wire.md §4.4): highest common version, decode only its
 * data, compare magics, then query reply or accept with the combined record.
 */
export function acceptProposal(
  proposed: VersionEntry[],
  own: { versions: readonly number[]; data: VersionData },
): AcceptDecision {
  const ownSorted = [...own.versions].sort((a, b) => a - b);
  const common = proposed.filter((p) => ownSorted.includes(p.version)).map((p) => p.version);
  if (common.length === 0) return { kind: 'refuse', reason: { kind: 'VersionMismatch', versions: ownSorted } };
  const version = Math.max(...common);
  const entry = proposed.find((p) => p.version === version) as VersionEntry;
  let remote: VersionData;
  try {
    remote = decodeVersionData(version, entry.data);
  } catch (e) {
    return {
      kind: 'refuse',
      reason: { kind: 'HandshakeDecodeError', version, message: e instanceof Error ? e.message : String(e) },
    };
  }
  const local: VersionData = { ...own.data };
  if (version >= 16) local.perasSupport = own.data.perasSupport ?? false;
  else delete local.perasSupport;
  const combined = combineVersionData(local, remote);
  if (!combined) {
    return {
      kind: 'refuse',
      reason: {
        kind: 'Refused',
        version,
        message: `version data mismatch: ${showVersionData(local)} /= ${showVersionData(remote)}`,
      },
    };
  }
  if (combined.query) {
    return {
      kind: 'query',
      versions: ownSorted.map((v) => {
        const d: VersionData = { ...own.data };
        if (v < 16) delete d.perasSupport;
        return { version: v, data: encodeVersionData(v, d) };
      }),
    };
  }
  return { kind: 'accept', version, data: combined };
}
