/** src/net: the Ouroboros node-to-node wire protocol, both sides (see docs/ARCHITECTURE.md). */
export * from './cbor.js';
export * from './chain.js';
export * from './client.js';
export * from './codec/chain-sync.js';
export * from './codec/handshake.js';
export * from './codec/keep-alive.js';
export * from './codec/peer-sharing.js';
export * from './codec/point.js';
export * from './errors.js';
export * from './header.js';
export * from './mux/limits.js';
export * from './mux/mux.js';
export * from './mux/segment.js';
export * from './protocol/peer.js';
export * from './protocol/specs.js';
export * from './serve.js';
export * from './transport/tcp.js';
