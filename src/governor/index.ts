/**
 * The peer-selection governor as a library (docs/governor.md): a pure port of cardano-node's
 * outbound governor, its churn governor and peer metrics, plus a mock environment that drives it
 * in simulated time. Nothing here performs I/O, reads a clock or uses global randomness.
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
  pickLedgerPeers,
} from './ledger-peers.js';
export {
  type MockEnvConfig,
  MockEnvironment,
  type PeerRow,
  type RandomEnvOptions,
  randomEnvironment,
  type SimPeer,
  type Snapshot,
  type TraceRecord,
} from './mock-env.js';
export * from './peer-metrics.js';
export * from './policies.js';
export { createRng, type Rng, rngFromState, shuffled } from './rng.js';
export {
  buildScenario,
  relayPeer,
  type ScenarioInput,
  SYNC_TARGET_KEYS,
  splitPeer,
  TARGET_KEYS,
  targetsFromNodeConfig,
} from './scenario.js';
export * from './types.js';
