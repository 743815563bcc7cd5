/**
 * Peer-selection targets and the node's defaults and sanity rule for them, in one place for the
 * node-config reader (src/config) and the governor (src/governor), which may not import each other
 * (docs/ARCHITECTURE.md, layers). Values from ouroboros-network's `Diffusion/Configuration.hs` and
 * `Governor/Types.hs` (shared/reference/governor.md §2.3, §11).
 */

/** The governor's seven targets (governor.md §2.3). */
export interface PeerTargets {
  root: number;
  known: number;
  established: number;
  active: number;
  knownBigLedger: number;
  establishedBigLedger: number;
  activeBigLedger: number;
}

/** `DiffusionMode`: InitiatorOnly never accepts inbound connections. */
export type DiffusionMode = 'InitiatorOnly' | 'InitiatorAndResponder';

/** `ConsensusMode`: PraosMode (bootstrap peers while syncing) or GenesisMode (sync targets). */
export type ConsensusMode = 'praos' | 'genesis';

/** `defaultDeadlineTargets` by role (role-dependent since ouroboros-network d43c8727b, 2025-07). */
export const DEFAULT_DEADLINE_TARGETS: Readonly<Record<'relay' | 'producer', Readonly<PeerTargets>>> = Object.freeze({
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

/** The upper limits of `sanePeerSelectionTargets` (each, for both kinds of peers). */
export interface TargetLimits {
  active: number;
  established: number;
  known: number;
}
export const TARGET_LIMITS: Readonly<TargetLimits> = Object.freeze({ active: 100, established: 1_000, known: 10_000 });

/**
 * The reference's `sanePeerSelectionTargets`, which the node checks at start-up and the governor
 * for every new set of targets: whole numbers, 0 <= active <= established <= known, root <= known
 * (the same chain for big ledger peers), each within `limits`.
 */
export function saneTargets(t: PeerTargets, limits: TargetLimits = TARGET_LIMITS): boolean {
  return Object.values(t).every((v) => Number.isInteger(v)) && targetRuleBroken(t, limits) === undefined;
}

/** The first rule of `saneTargets` that `t` breaks, as [field, relation, field or bound]; undefined when sane. */
export function targetRuleBroken(
  t: PeerTargets,
  limits: TargetLimits = TARGET_LIMITS,
): [keyof PeerTargets, '<' | '>', keyof PeerTargets | number] | undefined {
  for (const k of Object.keys(t) as Array<keyof PeerTargets>) if (!(t[k] >= 0)) return [k, '<', 0];
  if (t.active > t.established) return ['active', '>', 'established'];
  if (t.established > t.known) return ['established', '>', 'known'];
  if (t.root > t.known) return ['root', '>', 'known'];
  if (t.activeBigLedger > t.establishedBigLedger) return ['activeBigLedger', '>', 'establishedBigLedger'];
  if (t.establishedBigLedger > t.knownBigLedger) return ['establishedBigLedger', '>', 'knownBigLedger'];
  if (t.active > limits.active) return ['active', '>', limits.active];
  if (t.established > limits.established) return ['established', '>', limits.established];
  if (t.known > limits.known) return ['known', '>', limits.known];
  if (t.activeBigLedger > limits.active) return ['activeBigLedger', '>', limits.active];
  if (t.establishedBigLedger > limits.established) return ['establishedBigLedger', '>', limits.established];
  if (t.knownBigLedger > limits.known) return ['knownBigLedger', '>', limits.known];
  return undefined;
}
