/**
 * The node's defaults for every peer-to-peer key of its configuration, in one place (values from
 * ouroboros-network's `Diffusion/Configuration.hs` and cardano-node's `POM.hs`, newest versions;
 * shared/reference/governor.md §11). Times in milliseconds (docs/CONVENTIONS.md).
 */
import type { Millis } from '../lib/clock.js';

/** A relay, or a block producer (the node's `BlockProducer` role: it has forging credentials). */
export type NodeRole = 'relay' | 'producer';

/** Peer-selection targets: the same fields as the governor's `Targets`, so one passes for the other. */
export interface PeerTargets {
  root: number;
  known: number;
  established: number;
  active: number;
  knownBigLedger: number;
  establishedBigLedger: number;
  activeBigLedger: number;
}

/** `AcceptedConnectionsLimit`: inbound connections refused above `hardLimit`, delayed above `softLimit`. */
export interface AcceptedConnectionsLimit {
  hardLimit: number;
  softLimit: number;
  /** How long a new inbound connection waits while the soft limit is exceeded. */
  delayMs: Millis;
}

/** `DiffusionMode`: InitiatorOnly never accepts inbound connections. */
export type DiffusionMode = 'InitiatorOnly' | 'InitiatorAndResponder';

/** `ConsensusMode`: PraosMode (bootstrap peers while syncing) or GenesisMode (sync targets). */
export type ConsensusMode = 'praos' | 'genesis';

/** `defaultDeadlineTargets` by role (role-dependent since ouroboros-network d43c8727b, 2025-07). */
export const DEFAULT_DEADLINE_TARGETS: Readonly<Record<NodeRole, Readonly<PeerTargets>>> = Object.freeze({
  relay: Object.freeze({
    root: 60,
    known: 150,
    established: 30,
    active: 20,
    knownBigLedger: 15,
    establishedBigLedger: 10,
    activeBigLedger: 5,
  }),
  producer: Object.freeze({
    root: 100,
    known: 100,
    established: 30,
    active: 20,
    knownBigLedger: 15,
    establishedBigLedger: 10,
    activeBigLedger: 5,
  }),
});

/** `defaultSyncTargets`: Genesis mode while the ledger state is too old (few ordinary, many big ledger peers). */
export const DEFAULT_SYNC_TARGETS: Readonly<PeerTargets> = Object.freeze({
  root: 0,
  known: 150,
  established: 10,
  active: 5,
  knownBigLedger: 100,
  establishedBigLedger: 40,
  activeBigLedger: 30,
});

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

/** Upper bounds of `sanePeerSelectionTargets` (ouroboros-network `Governor/Types.hs`). */
export const TARGET_LIMITS = Object.freeze({ active: 100, established: 1_000, known: 10_000 });

/**
 * The node's sanity rule for targets, which it checks at start-up for both target sets:
 * 0 <= active <= established <= known, root <= known (same chain for big ledger peers), active and
 * active big ledger <= 100, established <= 1,000, known <= 10,000.
 */
export function saneTargets(t: PeerTargets): boolean {
  return targetRuleBroken(t) === undefined;
}

/** The first rule of `saneTargets` that `t` breaks, as [field, relation, field or bound]; undefined when sane. */
export function targetRuleBroken(
  t: PeerTargets,
): [keyof PeerTargets, '<' | '>', keyof PeerTargets | number] | undefined {
  for (const k of Object.keys(t) as Array<keyof PeerTargets>) if (!(t[k] >= 0)) return [k, '<', 0];
  if (t.active > t.established) return ['active', '>', 'established'];
  if (t.established > t.known) return ['established', '>', 'known'];
  if (t.root > t.known) return ['root', '>', 'known'];
  if (t.activeBigLedger > t.establishedBigLedger) return ['activeBigLedger', '>', 'establishedBigLedger'];
  if (t.establishedBigLedger > t.knownBigLedger) return ['establishedBigLedger', '>', 'knownBigLedger'];
  if (t.active > TARGET_LIMITS.active) return ['active', '>', TARGET_LIMITS.active];
  if (t.established > TARGET_LIMITS.established) return ['established', '>', TARGET_LIMITS.established];
  if (t.known > TARGET_LIMITS.known) return ['known', '>', TARGET_LIMITS.known];
  if (t.activeBigLedger > TARGET_LIMITS.active) return ['activeBigLedger', '>', TARGET_LIMITS.active];
  if (t.establishedBigLedger > TARGET_LIMITS.established)
    return ['establishedBigLedger', '>', TARGET_LIMITS.established];
  if (t.knownBigLedger > TARGET_LIMITS.known) return ['knownBigLedger', '>', TARGET_LIMITS.known];
  return undefined;
}
