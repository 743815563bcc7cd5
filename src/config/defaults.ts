/**
 * The node's defaults for every peer-to-peer key of its configuration, in one place (values from
 * ouroboros-network's `Diffusion/Configuration.hs` and cardano-node's `POM.hs`, newest versions;
 * shared/reference/governor.md §11). Times in milliseconds (docs/CONVENTIONS.md).
 */
import type { Millis } from '../lib/clock.js';
import type { ConsensusMode, DiffusionMode } from '../lib/peer-targets.js';

/** A relay, or a block producer (the node's `BlockProducer` role: it has forging credentials). */
export type NodeRole = 'relay' | 'producer';

export {
  type ConsensusMode,
  DEFAULT_DEADLINE_TARGETS,
  DEFAULT_SYNC_TARGETS,
  type DiffusionMode,
  type PeerTargets,
  saneTargets,
  TARGET_LIMITS,
  targetRuleBroken,
} from '../lib/peer-targets.js';

/** `AcceptedConnectionsLimit`: inbound connections refused above `hardLimit`, delayed above `softLimit`. */
export interface AcceptedConnectionsLimit {
  hardLimit: number;
  softLimit: number;
  /** How long a new inbound connection waits while the soft limit is exceeded. */
  delayMs: Millis;
}

/** `defaultAcceptedConnectionsLimit`: hard 512, soft 384, delay 5 s. */
export const DEFAULT_ACCEPTED_CONNECTIONS_LIMIT: Readonly<AcceptedConnectionsLimit> = Object.freeze({
  hardLimit: 512,
  softLimit: 384,
  delayMs: 5_000,
});

/** `defaultProtocolIdleTimeout`: an idle connection (no mini-protocol running) is closed after 5 s. */
export const DEFAULT_PROTOCOL_IDLE_TIMEOUT_MS: Millis = 5_000;
/** `defaultTimeWaitTimeout`: a closed connection's TIME_WAIT in the connection manager, 60 s. */
export const DEFAULT_TIME_WAIT_TIMEOUT_MS: Millis = 60_000;
/** `defaultChainSyncIdleTimeout` (when `ChainSyncIdleTimeout` is not set): 3,373 s. */
export const DEFAULT_CHAIN_SYNC_IDLE_TIMEOUT_MS: Millis = 3_373_000;
/** `defaultNumberOfBigLedgerPeers`: hot big ledger peers for a Genesis node to count as caught up. */
export const DEFAULT_MIN_BIG_LEDGER_PEERS_FOR_TRUSTED_STATE = 5;
/** `PeerSharing` when the file does not say: on for a relay, off for a block producer. */
export const DEFAULT_PEER_SHARING: Readonly<Record<NodeRole, boolean>> = Object.freeze({
  relay: true,
  producer: false,
});
export const DEFAULT_DIFFUSION_MODE: DiffusionMode = 'InitiatorAndResponder';
export const DEFAULT_CONSENSUS_MODE: ConsensusMode = 'praos';
