/** Mini-protocol numbers and the node's per-protocol ingress limits (wire.md §2.4, §2.5). */
export const Protocol = {
  handshake: 0,
  chainSync: 2,
  blockFetch: 3,
  txSubmission: 4,
  keepAlive: 8,
  peerSharing: 10,
  perasCert: 16,
  perasVote: 17,
} as const;

export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'handshake',
  2: 'chain-sync',
  3: 'block-fetch',
  4: 'tx-submission',
  8: 'keep-alive',
  10: 'peer-sharing',
  16: 'peras-cert',
  17: 'peras-vote',
};

export function protocolName(n: number): string {
  return PROTOCOL_NAMES[n] ?? `protocol ${n}`;
}

/** Bytes queued but not yet consumed, per protocol and direction, before the connection is killed. */
export const INGRESS_LIMITS: Readonly<Record<number, number>> = {
  // The handshake runs before the node's mux; two maximal messages is plenty.
  0: 2 * 5760,
  2: 462_000,
  3: 23_068_694,
  4: 721_424,
  8: 1408,
  10: 5760,
  16: 220_000,
  17: 55_000,
};

/** Per-segment read timeouts of the node: 10 s while the handshake runs, 30 s after (wire.md §1). */
export const SDU_HANDSHAKE_TIMEOUT_MS = 10_000;
export const SDU_TIMEOUT_MS = 30_000;
