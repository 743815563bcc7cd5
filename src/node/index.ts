/**
 * The live node's pure cores (issue 12): connection manager, inbound governor, their composition,
 * the server's accept rate limiting and the transition oracle. See docs/ARCHITECTURE.md (src/node).
 */
export * as connectionManager from './connection-manager/core.js';
export * as inboundGovernor from './inbound-governor/core.js';
export * from './node-core.js';
export type { Rng } from './rng.js';
export * from './server/rate-limit.js';
export * from './transitions.js';
