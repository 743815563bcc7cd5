/**
 * The peer-selection governor as a library (docs/governor.md): a pure port of cardano-node's
 * outbound governor, its churn governor and peer metrics. Nothing here performs I/O, reads a clock
 * or uses global randomness; src/driver runs it, src/sim simulates a world around it.
 */

export * from './bootstrap.js';
export * from './churn.js';
export { applyInputs, guardedDecisions, type StepOptions, type StepResult, step } from './governor.js';
export { assertInvariants, checkInvariants } from './invariants.js';
export {
  BIG_LEDGER_PEER_QUOTA,
  bigLedgerPools,
  type LedgerPool,
  type PickedLedgerPeer,
  pickBigLedgerPeers,
  pickFromBigLedgerPools,
  pickLedgerPeers,
} from './ledger-peers.js';
export * from './peer-metrics.js';
export * from './policies.js';
export { createRng, type Rng, rngFromState, shuffled } from './rng.js';
export * from './types.js';
