/**
 * The node-to-client handshake (handshake-node-to-client.cddl, wire.md §4): what `spo ping --unix`
 * speaks to a local node's socket, as `cardano-cli ping -u` does. Its own module, apart from the
 * node-to-node handshake (handshake.ts, codec/handshake.ts): the message shapes are the same four
 * (propose, accept, refuse, query reply), but the version numbers carry bit 15 (16..23 are
 * 32784..32791) and the version data is `[networkMagic, query]`.
 *
 * The codec is pure and total: any bytes either decode to a message or throw a CodecError (a
 * node's answer is input from outside; test/net/n2c-handshake.test.ts fuzzes it). The client runs
 * one handshake on a Unix socket: mux framing (protocol 0, wire.md §2.1) written and read here
 * directly, every wait under a timeout on the injected clock, Ctrl-C through the signal.
 */
import { createConnection, type Socket } from 'node:net';
import { type Clock, systemClock } from '../lib/clock.js';
import { CborError, CborMap, decodeFirstTerm, encodeTerm, type Term } from './cbor.js';
import { CodecError, NetError } from './errors.js';
import { decodeSegmentHeader, encodeSegment, muxTimestamp, SEGMENT_HEADER_SIZE } from './mux/segment.js';

/** Bit 15 marks a node-to-client version on the wire (since version 2). */
export const N2C_VERSION_BIT = 0x8000;
/** The node-to-client versions of the CDDL: 16..23. */
export const N2C_VERSIONS: readonly number[] = [16, 17, 18, 19, 20, 21, 22, 23];

export interface N2CVersionData {
  networkMagic: number;
  query: boolean;
}

export type N2CRefuseReason =
  | { kind: 'VersionMismatch'; versions: number[] }
  | { kind: 'HandshakeDecodeError'; version: number; message: string }
  | { kind: 'Refused'; version: number; message: string };

/** Versions are the plain numbers (16..23); the codec adds and removes bit 15. */
export type N2CHandshakeMessage =
  | { type: 'ProposeVersions'; versions: Array<{ version: number; data: N2CVersionData }> }
  | { type: 'AcceptVersion'; version: number; data: N2CVersionData }
  | { type: 'Refuse'; reason: N2CRefuseReason }
  | { type: 'QueryReply'; versions: Array<{ version: number; data: N2CVersionData | undefined }> };

const wire = (v: number): number => v | N2C_VERSION_BIT;

function fromWire(t: Term, what: string): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > 0xffff)
    throw new CodecError(`${what}: not a version number`);
  if ((t & N2C_VERSION_BIT) === 0) throw new CodecError(`${what}: ${t} is not a node-to-client version (bit 15 unset)`);
  return t & ~N2C_VERSION_BIT;
}

const dataTerm = (d: N2CVersionData): Term => [d.networkMagic, d.query];

export function decodeN2CVersionData(t: Term): N2CVersionData {
  if (!Array.isArray(t) || t.length !== 2) throw new CodecError('version data: not [networkMagic, query]');
  const [magic, query] = t;
  if (typeof magic !== 'number' || !Number.isSafeInteger(magic) || magic < 0 || magic > 0xffffffff)
    throw new CodecError('version data: networkMagic is not a 32-bit unsigned integer');
  if (typeof query !== 'boolean') throw new CodecError('version data: query is not a boolean');
  return { networkMagic: magic, query };
}

function encodeRefuse(r: N2CRefuseReason): Term {
  switch (r.kind) {
    case 'VersionMismatch':
      return [0, r.versions.map(wire)];
    case 'HandshakeDecodeError':
      return [1, wire(r.version), r.message];
    case 'Refused':
      return [2, wire(r.version), r.message];
  }
}

const table = (entries: ReadonlyArray<{ version: number; data: N2CVersionData | undefined }>): CborMap =>
  // The CDDL: entries sorted by version number, a definite-length map.
  new CborMap(
    [...entries]
      .sort((a, b) => a.version - b.version)
      .map((e) => [wire(e.version), e.data === undefined ? null : dataTerm(e.data)]),
  );

export function encodeN2CHandshake(m: N2CHandshakeMessage): Uint8Array {
  switch (m.type) {
    case 'ProposeVersions':
      return encodeTerm([0, table(m.versions)]);
    case 'AcceptVersion':
      return encodeTerm([1, wire(m.version), dataTerm(m.data)]);
    case 'Refuse':
      return encodeTerm([2, encodeRefuse(m.reason)]);
    case 'QueryReply':
      return encodeTerm([3, table(m.versions)]);
  }
}

function decodeTable(
  t: Term,
  what: string,
  lenient: boolean,
): Array<{ version: number; data: N2CVersionData | undefined }> {
  if (!(t instanceof CborMap) || t.indefinite) throw new CodecError(`${what}: the version table is not a definite map`);
  const out: Array<{ version: number; data: N2CVersionData | undefined }> = [];
  for (const [k, v] of t.entries) {
    const version = fromWire(k, what);
    let data: N2CVersionData | undefined;
    try {
      data = decodeN2CVersionData(v);
    } catch (e) {
      // A query reply may list versions whose data we do not know (older shapes): keep the number.
      if (!lenient) throw e;
      data = undefined;
    }
    out.push({ version, data });
  }
  return out;
}

function decodeRefuse(t: Term): N2CRefuseReason {
  if (!Array.isArray(t) || t.length < 2) throw new CodecError('MsgRefuse: malformed reason');
  const [kind, a, b] = t;
  if (kind === 0 && t.length === 2) {
    if (!Array.isArray(a)) throw new CodecError('MsgRefuse: VersionMismatch without a version list');
    return { kind: 'VersionMismatch', versions: a.map((v) => fromWire(v, 'MsgRefuse')) };
  }
  if ((kind === 1 || kind === 2) && t.length === 3) {
    const version = fromWire(a, 'MsgRefuse');
    if (typeof b !== 'string') throw new CodecError('MsgRefuse: the reason text is not a string');
    return kind === 1
      ? { kind: 'HandshakeDecodeError', version, message: b }
      : { kind: 'Refused', version, message: b };
  }
  throw new CodecError('MsgRefuse: unknown reason');
}

/** Decodes one handshake message from a term; CodecError for anything the CDDL does not allow. */
export function decodeN2CHandshakeTerm(t: Term): N2CHandshakeMessage {
  if (!Array.isArray(t) || t.length === 0) throw new CodecError('handshake: not a message array');
  const [tag, a, b] = t;
  if (tag === 0 && t.length === 2)
    return { type: 'ProposeVersions', versions: strict(decodeTable(a, 'MsgProposeVersions', false)) };
  if (tag === 1 && t.length === 3)
    return { type: 'AcceptVersion', version: fromWire(a, 'MsgAcceptVersion'), data: decodeN2CVersionData(b) };
  if (tag === 2 && t.length === 2) return { type: 'Refuse', reason: decodeRefuse(a) };
  if (tag === 3 && t.length === 2) return { type: 'QueryReply', versions: decodeTable(a, 'MsgQueryReply', true) };
  throw new CodecError(`handshake: unknown message (tag ${String(tag)}, ${t.length} fields)`);
}

const strict = (
  entries: Array<{ version: number; data: N2CVersionData | undefined }>,
): Array<{ version: number; data: N2CVersionData }> =>
  entries.map((e) => ({ version: e.version, data: e.data as N2CVersionData }));

/** Decodes exactly one message from bytes (trailing bytes are an error). */
export function decodeN2CHandshake(bytes: Uint8Array): N2CHandshakeMessage {
  let first: { term: Term; length: number };
  try {
    first = decodeFirstTerm(bytes);
  } catch (e) {
    throw new CodecError(`handshake: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (first.length !== bytes.length) throw new CodecError(`handshake: ${bytes.length - first.length} trailing bytes`);
  return decodeN2CHandshakeTerm(first.term);
}

/**
 * The acceptor's choice (the node's rule): the highest version both sides have; the magic must
 * match; query if either side asked. Used by the test responder and kept beside the codec.
 */
export function acceptN2CProposal(
  proposal: ReadonlyArray<{ version: number; data: N2CVersionData }>,
  ours: { versions: readonly number[]; networkMagic: number },
): N2CHandshakeMessage {
  const common = proposal.filter((p) => ours.versions.includes(p.version)).sort((a, b) => b.version - a.version)[0];
  if (!common) return { type: 'Refuse', reason: { kind: 'VersionMismatch', versions: [...ours.versions] } };
  if (common.data.networkMagic !== ours.networkMagic)
    return {
      type: 'Refuse',
      reason: {
        kind: 'Refused',
        version: common.version,
        // the node's words: its own data first, then the proposer's
        message: `version data mismatch: NodeToClientVersionData {networkMagic = NetworkMagic {unNetworkMagic = ${ours.networkMagic}}, query = False} /= NodeToClientVersionData {networkMagic = NetworkMagic {unNetworkMagic = ${common.data.networkMagic}}, query = ${common.data.query ? 'True' : 'False'}}`,
      },
    };
  if (common.data.query)
    return {
      type: 'QueryReply',
      versions: [...ours.versions].map((version) => ({
        version,
        data: { networkMagic: ours.networkMagic, query: false },
      })),
    };
  return { type: 'AcceptVersion', version: common.version, data: { networkMagic: ours.networkMagic, query: false } };
}

export interface N2CHandshakeOptions {
  path: string;
  magic: number;
  /** Versions to propose (default N2C_VERSIONS). */
  versions?: readonly number[];
  /** Ask for the node's version table instead of a connection. */
  query: boolean;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  clock?: Clock;
}

export type N2CHandshakeResult =
  | { kind: 'accepted'; version: number; data: N2CVersionData; connectMs: number; handshakeMs: number }
  | {
      kind: 'query';
      versions: Array<{ version: number; data: N2CVersionData | undefined }>;
      connectMs: number;
      handshakeMs: number;
    };

/** Largest handshake answer read (the node's handshake limit is 5760 bytes). */
const MAX_ANSWER = 5760;

/**
 * One node-to-client handshake on a Unix socket: connect, propose, read the answer, close.
 * Throws a NetError naming the stage (CONNECT_*, HANDSHAKE_*, PROTOCOL_ERROR).
 */
export function n2cHandshake(o: N2CHandshakeOptions): Promise<N2CHandshakeResult> {
  const clock = o.clock ?? systemClock;
  const versions = o.versions ?? N2C_VERSIONS;
  const where = o.path;
  return new Promise<N2CHandshakeResult>((resolve, reject) => {
    const started = clock.now();
    let connectMs = 0;
    let sentAt = 0;
    let settled = false;
    let buffered: Uint8Array = new Uint8Array(0);
    let payload: Uint8Array = new Uint8Array(0);
    const socket: Socket = createConnection({ path: o.path });
    const finish = (error: Error | undefined, result?: N2CHandshakeResult): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      o.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(result as N2CHandshakeResult);
    };
    const onAbort = (): void =>
      finish(o.signal?.reason instanceof Error ? o.signal.reason : new NetError('NET_ABORTED', `${where}: aborted`));
    // One timeout for connect and answer together, as for a local socket both are quick.
    const timer = clock.setTimer(o.timeoutMs, () =>
      finish(
        new NetError(
          connectMs === 0 ? 'CONNECT_TIMEOUT' : 'HANDSHAKE_TIMEOUT',
          `${where}: no ${connectMs === 0 ? 'connection' : 'handshake answer'} within ${o.timeoutMs} ms`,
        ),
      ),
    );
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(socketError(where, e, connectMs > 0)));
    socket.on('close', () =>
      finish(
        new NetError('HANDSHAKE_CLOSED', `${where}: the node closed the connection before answering the handshake`),
      ),
    );
    socket.on('connect', () => {
      connectMs = Math.max(clock.now() - started, Number.MIN_VALUE);
      const proposal = encodeN2CHandshake({
        type: 'ProposeVersions',
        versions: versions.map((version) => ({ version, data: { networkMagic: o.magic, query: o.query } })),
      });
      sentAt = clock.now();
      socket.write(
        encodeSegment({ timestamp: muxTimestamp(sentAt), fromResponder: false, protocol: 0, payload: proposal }),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = concat(buffered, chunk);
      while (buffered.length >= SEGMENT_HEADER_SIZE) {
        const h = decodeSegmentHeader(buffered);
        if (buffered.length < SEGMENT_HEADER_SIZE + h.length) break;
        if (h.protocol !== 0 || !h.fromResponder) {
          finish(
            new NetError(
              'PROTOCOL_ERROR',
              `${where}: a segment for mini-protocol ${h.protocol} before the handshake answer`,
            ),
          );
          return;
        }
        payload = concat(payload, buffered.subarray(SEGMENT_HEADER_SIZE, SEGMENT_HEADER_SIZE + h.length));
        buffered = buffered.subarray(SEGMENT_HEADER_SIZE + h.length);
      }
      if (payload.length === 0) return;
      let first: { term: Term; length: number };
      try {
        first = decodeFirstTerm(payload);
      } catch (e) {
        if (e instanceof CborError && e.incomplete && payload.length < MAX_ANSWER) return; // more to come
        finish(new NetError('PROTOCOL_ERROR', `${where}: the handshake answer is not CBOR`));
        return;
      }
      let m: N2CHandshakeMessage;
      try {
        m = decodeN2CHandshakeTerm(first.term);
      } catch (e) {
        finish(new NetError('PROTOCOL_ERROR', `${where}: malformed handshake answer (${(e as Error).message})`));
        return;
      }
      const handshakeMs = clock.now() - sentAt;
      try {
        finish(undefined, resultOf(m, o, where, connectMs, handshakeMs));
      } catch (e) {
        finish(e as Error);
      }
    });
  });
}

function resultOf(
  m: N2CHandshakeMessage,
  o: N2CHandshakeOptions,
  where: string,
  connectMs: number,
  handshakeMs: number,
): N2CHandshakeResult {
  switch (m.type) {
    case 'AcceptVersion':
      return { kind: 'accepted', version: m.version, data: m.data, connectMs, handshakeMs };
    case 'QueryReply':
      return { kind: 'query', versions: m.versions, connectMs, handshakeMs };
    case 'ProposeVersions':
      throw new NetError('PROTOCOL_ERROR', `${where}: the node answered with a proposal of its own`);
    case 'Refuse':
      throw refusal(m.reason, o, where);
  }
}

function refusal(r: N2CRefuseReason, o: N2CHandshakeOptions, where: string): NetError {
  switch (r.kind) {
    case 'VersionMismatch':
      return new NetError(
        'HANDSHAKE_REFUSED_VERSION',
        `${where}: no common node-to-client version (the node speaks ${r.versions.join(', ') || 'none'})`,
        {
          hint: 'a node this old or new needs a matching spo; see --json for the versions',
          details: { peerVersions: r.versions },
        },
      );
    case 'HandshakeDecodeError':
      return new NetError(
        'HANDSHAKE_DECODE_ERROR',
        `${where}: the node could not decode our version ${r.version} data: ${r.message}`,
        {
          details: { text: r.message },
        },
      );
    case 'Refused': {
      const magic = /mismatch|magic/i.test(r.message);
      // "version data mismatch: <the node's data> /= <ours>", as the node words it
      const theirs = /unNetworkMagic = (\d+)\}.*\/= .*unNetworkMagic = (\d+)\}/.exec(r.message)?.[1];
      return magic
        ? new NetError(
            'HANDSHAKE_REFUSED_MAGIC',
            `${where}: the node runs another network (we sent magic ${o.magic}${theirs ? `, it runs ${theirs}` : ''})`,
            {
              hint: "give the node's network: --network preprod|preview|... or --magic N",
              details: { text: r.message, ...(theirs ? { peerMagic: Number(theirs) } : {}) },
            },
          )
        : new NetError('HANDSHAKE_REFUSED', `${where}: the node refused version ${r.version}: ${r.message}`, {
            details: { text: r.message },
          });
    }
  }
}

function socketError(where: string, e: NodeJS.ErrnoException, connected: boolean): NetError {
  if (connected)
    return new NetError(
      'CONNECTION_RESET',
      `${where}: the connection failed during the handshake (${e.code ?? e.message})`,
    );
  switch (e.code) {
    case 'ENOENT':
      return new NetError('CONNECT_FAILED', `${where}: no such socket`, {
        hint: "is the node running? give its socket with --unix or CARDANO_NODE_SOCKET_PATH (the node's --socket-path)",
      });
    case 'ECONNREFUSED':
      return new NetError(
        'CONNECT_REFUSED',
        `${where}: nothing listens on the socket (a node that stopped leaves it behind)`,
        {
          hint: 'start the node, or point --unix at the socket of the running one',
        },
      );
    case 'EACCES':
    case 'EPERM':
      return new NetError('CONNECT_FAILED', `${where}: permission denied`, {
        hint: "run as the node's user or a member of its group (the socket is usually mode 660)",
      });
    case 'ENOTSOCK':
      return new NetError('CONNECT_FAILED', `${where}: not a socket`, { hint: "give the node's --socket-path" });
    default:
      return new NetError('CONNECT_FAILED', `${where}: ${e.code ?? e.message}`);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
