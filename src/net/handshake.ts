/**
 * The handshake (mini-protocol 0), both sides in one place (wire.md §4): the proposer sends its
 * version table and reads the answer; the acceptor picks the highest common version, decodes only
 * its data, checks the magic and answers with the combined record, a query reply or a refusal
 * (`acceptProposal`, §4.4). A proposal read while waiting for an answer is TCP simultaneous open
 * (MsgReplyVersions): the proposer then decides as an acceptor would.
 *
 * While it runs, the mux holds segments of the other node-to-node protocols (the peer's first ones
 * may share a read with its answer); `openConnection` releases them once the connection's protocols
 * are set up.
 */
import type { Millis } from '../lib/clock.js';
import { InterruptedError } from '../lib/errors.js';
import {
  type AcceptDecision,
  acceptProposal,
  decodeVersionData,
  describeRefusal,
  encodeVersionData,
  type HandshakeMessage,
  type RefuseReason,
  type VersionData,
  type VersionEntry,
  versionTable,
} from './codec/handshake.js';
import { NetError } from './errors.js';
import { Protocol } from './mux/limits.js';
import type { Mux } from './mux/mux.js';
import { ProtocolPeer } from './protocol/peer.js';
import { HANDSHAKE_TIMEOUT_MS, type HandshakeState, handshakeSpec } from './protocol/specs.js';

export type HandshakeRole = 'proposer' | 'acceptor';

export interface HandshakeOptions {
  /** Versions we speak (proposed, or accepted from). */
  versions: readonly number[];
  /** Our version data: magic, diffusion mode, peer sharing, and (proposer) whether this is a query. */
  data: VersionData;
  /** Limit of each handshake state (default 10 s, the node's). */
  timeoutMs?: Millis;
}

/** A version of the peer's table, its data decoded when we understand it. */
export interface QueriedVersion {
  version: number;
  data: VersionData | undefined;
}

export type HandshakeResult =
  /** Both sides agree: the version and the combined ("agreed") version data. */
  | { kind: 'accepted'; version: number; versionData: VersionData; handshakeMs: number }
  /** Proposer: the peer answered our query with its table. Acceptor: we answered a query (closing). */
  | { kind: 'query'; versions: QueriedVersion[]; handshakeMs: number }
  /** Acceptor only: we refused the proposal (closing). A refused proposer gets a NetError. */
  | { kind: 'refused'; reason: RefuseReason; handshakeMs: number };

/** Every node-to-node protocol a handshake can agree on (held while it runs). */
export const NODE_TO_NODE_PROTOCOLS: readonly number[] = [
  Protocol.chainSync,
  Protocol.blockFetch,
  Protocol.txSubmission,
  Protocol.keepAlive,
  Protocol.peerSharing,
];

/** The protocols an agreement runs: peer sharing only when both sides enabled it; no Peras. */
export function protocolsFor(agreed: VersionData): number[] {
  return agreed.peerSharing === 1 ? [...NODE_TO_NODE_PROTOCOLS] : NODE_TO_NODE_PROTOCOLS.filter((p) => p !== 10);
}

/** Maps a handshake reply that is not an accept to the error code the stage contract names. */
export function handshakeFailure(where: string, reply: HandshakeMessage, magic: number): NetError {
  if (reply.type === 'Refuse') {
    const r = reply.reason;
    const words = describeRefusal(r);
    if (r.kind === 'VersionMismatch') {
      return new NetError('HANDSHAKE_REFUSED_VERSION', `${where}: handshake refused: ${words}`, {
        hint: 'the peer runs a node that speaks none of the proposed versions; try --versions with the ones it lists',
        details: { reason: r.kind, peerVersions: r.versions },
      });
    }
    if (r.kind === 'Refused' && /mismatch/i.test(r.message)) {
      const m = /NetworkMagic \{unNetworkMagic = (\d+)\}.*\/= .*NetworkMagic \{unNetworkMagic = (\d+)\}/.exec(
        r.message,
      );
      return new NetError(
        'HANDSHAKE_REFUSED_MAGIC',
        `${where}: handshake refused: wrong network magic (we sent ${magic}${m ? `, the peer is on ${m[1]}` : ''})`,
        {
          hint: 'pick the network the relay is on with --network or --magic',
          details: { reason: r.kind, version: r.version, text: r.message, ...(m ? { peerMagic: Number(m[1]) } : {}) },
        },
      );
    }
    return new NetError(
      r.kind === 'HandshakeDecodeError' ? 'HANDSHAKE_DECODE_ERROR' : 'HANDSHAKE_REFUSED',
      `${where}: handshake refused: ${words}`,
      { details: { reason: r.kind, version: r.version, text: r.message } },
    );
  }
  return new NetError('PROTOCOL_ERROR', `${where}: unexpected handshake reply ${reply.type}`);
}

function decodeTable(versions: VersionEntry[]): QueriedVersion[] {
  return versions.map((v) => {
    try {
      return { version: v.version, data: decodeVersionData(v.version, v.data) };
    } catch {
      return { version: v.version, data: undefined };
    }
  });
}

/** The stage-named error for a failure while waiting for the peer's handshake message. */
function waitError(where: string, e: unknown, timeoutMs: number, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new InterruptedError();
  if (!(e instanceof NetError)) return e instanceof Error ? e : new Error(String(e));
  if (e.code === 'HANDSHAKE_TIMEOUT') {
    return new NetError('HANDSHAKE_TIMEOUT', `${where}: no handshake answer within ${timeoutMs} ms`, {
      hint: 'the port accepts TCP but does not speak node-to-node (or the node is overloaded)',
      details: { timeoutMs },
    });
  }
  if (e.code === 'CONNECTION_CLOSED' || e.code === 'CONNECTION_RESET') {
    return new NetError('HANDSHAKE_CLOSED', `${where}: the peer closed the connection during the handshake`, {
      hint: 'the peer may limit connections, or not speak node-to-node on that port',
      details: { cause: e.code },
    });
  }
  if (e.code === 'PROTOCOL_ERROR') {
    return new NetError('PROTOCOL_ERROR', `${where}: malformed handshake reply: ${e.message}`, {
      hint: 'the peer answered with something that is not a node-to-node handshake message: it may not be a Cardano node',
      details: e.details,
    });
  }
  return new NetError(e.code, `${where}: ${e.message}`, { details: e.details });
}

/**
 * Runs the handshake on a fresh mux as `role`. The proposer throws a NetError naming the stage for
 * anything but an accept or a query reply; the acceptor answers refusals and queries itself and
 * closes the connection (its result says which), and throws only when the proposer misbehaved.
 */
export async function runHandshake(
  mux: Mux,
  role: HandshakeRole,
  o: HandshakeOptions,
  where: string,
  signal?: AbortSignal,
): Promise<HandshakeResult> {
  const timeoutMs = o.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const timeouts: Partial<Record<HandshakeState, number>> = { StPropose: timeoutMs, StConfirm: timeoutMs };
  mux.hold(NODE_TO_NODE_PROTOCOLS);
  const started = mux.clock.now();
  if (role === 'proposer') {
    const hs = new ProtocolPeer(handshakeSpec, mux.channel(Protocol.handshake, 'initiator'), 'client', {
      timeouts,
      dropSegmentTail: true,
    });
    await hs.send({ type: 'ProposeVersions', versions: versionTable(o.versions, o.data) });
    let reply: HandshakeMessage;
    try {
      reply = (await hs.recv()).msg;
    } catch (e) {
      throw waitError(where, e, timeoutMs, signal);
    }
    const handshakeMs = mux.clock.now() - started;
    if (reply.type === 'QueryReply') return { kind: 'query', versions: decodeTable(reply.versions), handshakeMs };
    if (reply.type === 'ProposeVersions') {
      // Simultaneous open: both sides proposed; each decides on the other's table as an acceptor.
      const d = acceptProposal(reply.versions, { versions: o.versions, data: o.data });
      return settle(where, d, o.data.networkMagic, handshakeMs);
    }
    if (reply.type !== 'AcceptVersion') throw handshakeFailure(where, reply, o.data.networkMagic);
    if (o.data.query) {
      // An older node that ignores query: report what it accepted.
      return { kind: 'query', versions: decodeTable([{ version: reply.version, data: reply.data }]), handshakeMs };
    }
    if (!o.versions.includes(reply.version)) {
      throw new NetError(
        'PROTOCOL_ERROR',
        `${where}: the peer accepted version ${reply.version}, which we did not propose`,
      );
    }
    let theirs: VersionData;
    try {
      theirs = decodeVersionData(reply.version, reply.data);
    } catch (e) {
      throw new NetError('PROTOCOL_ERROR', `${where}: bad version data in the accept: ${(e as Error).message}`);
    }
    if (theirs.networkMagic !== o.data.networkMagic) {
      throw new NetError(
        'HANDSHAKE_REFUSED_MAGIC',
        `${where}: the peer accepted with magic ${theirs.networkMagic}, not ${o.data.networkMagic}`,
      );
    }
    // The acceptor sends the combined record; combine again so a careless peer cannot turn on what
    // we did not offer (duplex, peer sharing).
    const agreed: VersionData = {
      ...theirs,
      initiatorOnly: theirs.initiatorOnly || o.data.initiatorOnly,
      peerSharing: theirs.peerSharing === 1 && o.data.peerSharing === 1 ? 1 : 0,
    };
    return { kind: 'accepted', version: reply.version, versionData: agreed, handshakeMs };
  }

  // As the node: the proposal is read from its segment and the rest of that segment is ignored
  // (a second proposal, a stray byte); a later handshake segment is a violation.
  const hs = new ProtocolPeer(handshakeSpec, mux.channel(Protocol.handshake, 'responder'), 'server', {
    timeouts,
    dropSegmentTail: true,
  });
  let first: HandshakeMessage;
  try {
    first = (await hs.recv()).msg;
  } catch (e) {
    throw waitError(where, e, timeoutMs, signal);
  }
  if (first.type !== 'ProposeVersions') throw new NetError('PROTOCOL_ERROR', `${where}: expected MsgProposeVersions`);
  const d = acceptProposal(first.versions, { versions: o.versions, data: o.data });
  const handshakeMs = mux.clock.now() - started;
  if (d.kind === 'refuse') {
    await hs.send({ type: 'Refuse', reason: d.reason });
    void mux.close();
    return { kind: 'refused', reason: d.reason, handshakeMs };
  }
  if (d.kind === 'query') {
    await hs.send({ type: 'QueryReply', versions: d.versions });
    void mux.close();
    return { kind: 'query', versions: decodeTable(d.versions), handshakeMs };
  }
  await hs.send({ type: 'AcceptVersion', version: d.version, data: encodeVersionData(d.version, d.data) });
  return { kind: 'accepted', version: d.version, versionData: d.data, handshakeMs };
}

/** The outcome of an acceptor's decision reached on the proposer's side (simultaneous open). */
function settle(where: string, d: AcceptDecision, magic: number, handshakeMs: number): HandshakeResult {
  if (d.kind === 'accept') return { kind: 'accepted', version: d.version, versionData: d.data, handshakeMs };
  if (d.kind === 'query') return { kind: 'query', versions: decodeTable(d.versions), handshakeMs };
  throw handshakeFailure(where, { type: 'Refuse', reason: d.reason }, magic);
}
