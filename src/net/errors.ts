import { SpoError, type SpoErrorOptions } from '../lib/errors.js';

/**
 * Error codes of src/net. Each names the stage that failed, so that ping, probe and the governor can
 * tell "port closed" from "wrong network" from "peer misbehaved" without parsing messages.
 */
export type NetErrorCode =
  | 'CONNECT_REFUSED'
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_UNREACHABLE'
  | 'CONNECT_FAILED'
  | 'CONNECTION_RESET'
  | 'CONNECTION_CLOSED'
  | 'HANDSHAKE_TIMEOUT'
  | 'HANDSHAKE_REFUSED_MAGIC'
  | 'HANDSHAKE_REFUSED_VERSION'
  | 'HANDSHAKE_REFUSED'
  | 'HANDSHAKE_DECODE_ERROR'
  | 'HANDSHAKE_CLOSED'
  | 'HANDSHAKE_QUERY_REPLY'
  | 'PROTOCOL_ERROR'
  | 'MUX_UNKNOWN_PROTOCOL'
  | 'MUX_INGRESS_OVERRUN'
  | 'MUX_BAD_SEGMENT'
  | 'MUX_SDU_TIMEOUT'
  | 'SIZE_LIMIT_EXCEEDED'
  | 'KEEPALIVE_TIMEOUT'
  | 'KEEPALIVE_COOKIE_MISMATCH'
  | 'CHAINSYNC_TIMEOUT'
  | 'PEERSHARING_TIMEOUT'
  | 'PROTOCOL_TIMEOUT'
  | 'NET_ABORTED'
  /** The server's accept loop met an error it cannot survive (src/node/server). */
  | 'ACCEPT_FAILED';

export class NetError extends SpoError {
  declare readonly code: NetErrorCode;
  constructor(code: NetErrorCode, message: string, options: SpoErrorOptions = {}) {
    super(code, message, options);
    this.name = 'NetError';
  }
}

export function isNetError(e: unknown): e is NetError {
  return e instanceof NetError;
}

/** A malformed or unexpected message: the peer broke the protocol. */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}
