/**
 * State machines of the four mini-protocols: agency, timeouts and size limits per state, from the
 * Haskell codecs (wire.md §4.1, §5, §6.1, §7.1).
 */
import { type BlockFetchMessage, decodeBlockFetchTerm, encodeBlockFetch } from '../codec/block-fetch.js';
import { type ChainSyncMessage, decodeChainSyncTerm, encodeChainSync } from '../codec/chain-sync.js';
import { decodeHandshakeTerm, encodeHandshake, type HandshakeMessage } from '../codec/handshake.js';
import { decodeKeepAliveTerm, encodeKeepAlive, type KeepAliveMessage } from '../codec/keep-alive.js';
import { decodePeerSharingTerm, encodePeerSharing, type PeerSharingMessage } from '../codec/peer-sharing.js';
import { decodeTxSubmissionTerm, encodeTxSubmission, type TxSubmissionMessage } from '../codec/tx-submission.js';
import { Protocol } from '../mux/limits.js';
import type { ProtocolSpec } from './peer.js';

export const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Pipelining depths of the node's clients (cardano-diffusion `defaultMiniProtocolParameters`:
 * chain-sync high mark 300, block-fetch 100 requests in flight); the ingress limits of
 * mux/limits.ts are derived from the same numbers. More waiting at our responder is a violation.
 */
export const CHAIN_SYNC_PIPELINING_MAX = 300;
export const BLOCK_FETCH_PIPELINING_MAX = 100;
export const HANDSHAKE_SIZE_LIMIT = 5760;

export type HandshakeState = 'StPropose' | 'StConfirm' | 'StDone';
export const handshakeSpec: ProtocolSpec<HandshakeMessage, HandshakeState> = {
  name: 'handshake',
  protocol: Protocol.handshake,
  initial: 'StPropose',
  states: {
    StPropose: { agency: 'client', timeoutMs: HANDSHAKE_TIMEOUT_MS, sizeLimit: HANDSHAKE_SIZE_LIMIT },
    StConfirm: { agency: 'server', timeoutMs: HANDSHAKE_TIMEOUT_MS, sizeLimit: HANDSHAKE_SIZE_LIMIT },
    StDone: { agency: 'nobody', sizeLimit: 0 },
  },
  next(state, msg) {
    if (state === 'StPropose' && msg.type === 'ProposeVersions') return 'StConfirm';
    // A propose in StConfirm is MsgReplyVersions (TCP simultaneous open).
    if (state === 'StConfirm') return 'StDone';
    return undefined;
  },
  encode: encodeHandshake,
  decodeTerm: decodeHandshakeTerm,
  timeoutCode: 'HANDSHAKE_TIMEOUT',
};

export type KeepAliveState = 'StClient' | 'StServer' | 'StDone';
export const keepAliveSpec: ProtocolSpec<KeepAliveMessage, KeepAliveState> = {
  name: 'keep-alive',
  protocol: Protocol.keepAlive,
  initial: 'StClient',
  states: {
    StClient: { agency: 'client', timeoutMs: 97_000, sizeLimit: 65_535 },
    StServer: { agency: 'server', timeoutMs: 60_000, sizeLimit: 65_535 },
    StDone: { agency: 'nobody', sizeLimit: 0 },
  },
  next(state, msg) {
    if (state === 'StClient' && msg.type === 'KeepAlive') return 'StServer';
    if (state === 'StClient' && msg.type === 'Done') return 'StDone';
    if (state === 'StServer' && msg.type === 'KeepAliveResponse') return 'StClient';
    return undefined;
  },
  encode: encodeKeepAlive,
  decodeTerm: decodeKeepAliveTerm,
  timeoutCode: 'KEEPALIVE_TIMEOUT',
};

/** The node waits a uniformly random time in [601 s, 911 s] after MsgAwaitReply (untrusted peers). */
export const MUST_REPLY_MIN_MS = 601_000;
export const MUST_REPLY_MAX_MS = 911_000;

export type ChainSyncState = 'StIdle' | 'StCanAwait' | 'StMustReply' | 'StIntersect' | 'StDone';
export const chainSyncSpec: ProtocolSpec<ChainSyncMessage, ChainSyncState> = {
  name: 'chain-sync',
  protocol: Protocol.chainSync,
  initial: 'StIdle',
  states: {
    StIdle: { agency: 'client', timeoutMs: 3373_000, sizeLimit: 65_535 },
    StCanAwait: { agency: 'server', timeoutMs: 10_000, sizeLimit: 65_535 },
    StMustReply: { agency: 'server', timeoutMs: MUST_REPLY_MAX_MS, sizeLimit: 65_535 },
    StIntersect: { agency: 'server', timeoutMs: 10_000, sizeLimit: 65_535 },
    StDone: { agency: 'nobody', sizeLimit: 0 },
  },
  next(state, msg) {
    switch (state) {
      case 'StIdle':
        if (msg.type === 'RequestNext') return 'StCanAwait';
        if (msg.type === 'FindIntersect') return 'StIntersect';
        if (msg.type === 'Done') return 'StDone';
        return undefined;
      case 'StCanAwait':
        if (msg.type === 'AwaitReply') return 'StMustReply';
        if (msg.type === 'RollForward' || msg.type === 'RollBackward') return 'StIdle';
        return undefined;
      case 'StMustReply':
        if (msg.type === 'RollForward' || msg.type === 'RollBackward') return 'StIdle';
        return undefined;
      case 'StIntersect':
        if (msg.type === 'IntersectFound' || msg.type === 'IntersectNotFound') return 'StIdle';
        return undefined;
      default:
        return undefined;
    }
  },
  encode: encodeChainSync,
  decodeTerm: decodeChainSyncTerm,
  timeoutCode: 'CHAINSYNC_TIMEOUT',
  // The node's client keeps at most chainSyncPipeliningHighMark (300) requests in flight.
  clientPipelining: { messages: ['RequestNext'], max: CHAIN_SYNC_PIPELINING_MAX },
};

export type PeerSharingState = 'StIdle' | 'StBusy' | 'StDone';
export const peerSharingSpec: ProtocolSpec<PeerSharingMessage, PeerSharingState> = {
  name: 'peer-sharing',
  protocol: Protocol.peerSharing,
  initial: 'StIdle',
  states: {
    StIdle: { agency: 'client', sizeLimit: 5760 },
    StBusy: { agency: 'server', timeoutMs: 60_000, sizeLimit: 5760 },
    StDone: { agency: 'nobody', sizeLimit: 0 },
  },
  next(state, msg) {
    if (state === 'StIdle' && msg.type === 'ShareRequest') return 'StBusy';
    if (state === 'StIdle' && msg.type === 'Done') return 'StDone';
    if (state === 'StBusy' && msg.type === 'SharePeers') return 'StIdle';
    return undefined;
  },
  encode: encodePeerSharing,
  decodeTerm: decodePeerSharingTerm,
  timeoutCode: 'PEERSHARING_TIMEOUT',
};

export type BlockFetchState = 'StIdle' | 'StBusy' | 'StStreaming' | 'StDone';
/** Block-fetch: StIdle waits for the client without limit; the server answers within 60 s (StBusy, StStreaming). */
export const blockFetchSpec: ProtocolSpec<BlockFetchMessage, BlockFetchState> = {
  name: 'block-fetch',
  protocol: Protocol.blockFetch,
  initial: 'StIdle',
  states: {
    StIdle: { agency: 'client', sizeLimit: 65_535 },
    StBusy: { agency: 'server', timeoutMs: 60_000, sizeLimit: 65_535 },
    StStreaming: { agency: 'server', timeoutMs: 60_000, sizeLimit: 2_500_000 },
    StDone: { agency: 'nobody', sizeLimit: 0 },
  },
  next(state, msg) {
    if (state === 'StIdle' && msg.type === 'RequestRange') return 'StBusy';
    if (state === 'StIdle' && msg.type === 'ClientDone') return 'StDone';
    if (state === 'StBusy' && msg.type === 'NoBlocks') return 'StIdle';
    if (state === 'StBusy' && msg.type === 'StartBatch') return 'StStreaming';
    if (state === 'StStreaming' && msg.type === 'Block') return 'StStreaming';
    if (state === 'StStreaming' && msg.type === 'BatchDone') return 'StIdle';
    return undefined;
  },
  encode: encodeBlockFetch,
  decodeTerm: decodeBlockFetchTerm,
  timeoutCode: 'PROTOCOL_TIMEOUT',
  // The node's block-fetch client has at most blockFetchPipeliningMax (100) ranges in flight.
  clientPipelining: { messages: ['RequestRange'], max: BLOCK_FETCH_PIPELINING_MAX },
};

export type TxSubmissionState = 'StInit' | 'StIdle';
/** Tx-submission v2 up to MsgInit; after it the server has agency and the client waits without limit. */
export const txSubmissionSpec: ProtocolSpec<TxSubmissionMessage, TxSubmissionState> = {
  name: 'tx-submission',
  protocol: Protocol.txSubmission,
  initial: 'StInit',
  states: {
    StInit: { agency: 'client', sizeLimit: 5760 },
    StIdle: { agency: 'server', sizeLimit: 5760 },
  },
  next(state, msg) {
    if (state === 'StInit' && msg.type === 'Init') return 'StIdle';
    return undefined;
  },
  encode: encodeTxSubmission,
  decodeTerm: decodeTxSubmissionTerm,
  timeoutCode: 'PROTOCOL_TIMEOUT',
};

/** A must-reply timeout drawn as the node does, from an injected random source. */
export function mustReplyTimeoutMs(random: () => number = Math.random): number {
  return MUST_REPLY_MIN_MS + Math.floor(random() * (MUST_REPLY_MAX_MS - MUST_REPLY_MIN_MS));
}
