/**
 * Cardano's extensions to the governor (governor.md §2.9; the reference's
 * `CDL/PeerSelection/Governor/{Monitor,Types,PeerSelectionState}.hs`): the bootstrap-peers
 * "sensitive" state, Genesis target switching and the association mode.
 *
 * Sensitive state = Praos mode, `UseBootstrapPeers` enabled and the ledger state judged `TooOld`.
 * Entering it zeroes the targets and the local roots (the general "above target" rules then shed
 * every peer that is not trusted), arms a 15-minute deadline and disables the progress-making
 * decisions (big ledger peers, peer sharing, inbound peers). `waitForSystemToQuiesce` notes when only
 * trusted peers are left (known ⊆ bootstrap ∪ trustable local roots, nothing in flight); then the
 * targets and local-roots monitors resume, with local roots clamped to trustable ones, and root-peer
 * requests are answered from the configured bootstrap peers. If the deadline passes first, `step`
 * reports a critical error (the reference throws `BootstrapPeersCriticalTimeoutError` and the node
 * restarts; here the shell decides). Leaving the state forgets the bootstrap peers that are not
 * established.
 */
import { type Ctx, type Guarded, orElse, ready, skip } from './decisions/guarded.js';
import type { GovernorPolicy } from './policies.js';
import { forget } from './state.js';
import {
  type AssociationMode,
  EMPTY_LOCAL_ROOTS,
  type GovernorState,
  type LocalRootConfig,
  type LocalRootGroup,
  type LocalRoots,
  type Peer,
  type Targets,
  type Time,
  type TraceEvent,
  ZERO_TARGETS,
} from './types.js';

/** `governor_BOOTSTRAP_PEERS_TIMEOUT`: 15 minutes to reach a state with only trusted peers. */
export const BOOTSTRAP_PEERS_TIMEOUT = 15 * 60;
/** `defaultNumberOfBigLedgerPeers`: active big ledger peers needed for a trusted state in Genesis mode. */
export const MIN_BIG_LEDGER_PEERS_FOR_TRUSTED_STATE = 5;

/** The reference's `requiresBootstrapPeers` (Praos mode only: Genesis does not use bootstrap peers). */
export function requiresBootstrapPeers(s: GovernorState): boolean {
  return s.consensusMode === 'praos' && s.useBootstrapPeers && s.ledgerStateJudgement === 'tooOld';
}

/** `isNodeAbleToMakeProgress`: not sensitive, or only trusted peers are left. */
export function canMakeProgress(s: GovernorState): boolean {
  return !requiresBootstrapPeers(s) || s.hasOnlyBootstrapPeers;
}

/** The targets the targets monitor installs: Genesis sync targets while the ledger state is too old. */
export function wantedTargets(s: GovernorState): Targets {
  return s.consensusMode === 'genesis' && s.ledgerStateJudgement === 'tooOld' ? s.syncTargetsVar : s.targetsVar;
}

/** `clampToTrustable`: each group keeps its trustable members, valencies lowered to fit; empty groups go. */
export function clampToTrustable(roots: LocalRoots): LocalRoots {
  const groups: LocalRootGroup[] = [];
  const config = new Map<Peer, LocalRootConfig>();
  for (const g of roots.groups) {
    const members = g.members.filter((m) => roots.config.get(m)?.trustable === true);
    if (members.length === 0) continue;
    const warm = Math.min(g.warmValency, members.length);
    const hot = Math.min(g.hotValency, warm);
    if (hot <= 0) continue;
    groups.push({ hotValency: hot, warmValency: warm, members });
    for (const m of members) config.set(m, roots.config.get(m) as LocalRootConfig);
  }
  return { groups, config };
}

/** Bootstrap peers and trustable local roots: the only peers allowed while sensitive. */
export function isTrusted(s: GovernorState, p: Peer): boolean {
  return s.publicRoots.extra.get(p)?.bootstrap === true || s.localRoots.config.get(p)?.trustable === true;
}

/** Installs a new flag or judgement and performs the transition into or out of the sensitive state. */
function transition(s: GovernorState, now: Time, install: () => void): TraceEvent[] {
  const was = requiresBootstrapPeers(s);
  install();
  const is = requiresBootstrapPeers(s);
  s.progressEnabled = !is;
  if (was === is) return [];
  // Both ways the root-peer request starts afresh (its source changes).
  s.publicRootBackoffs = 0;
  s.publicRootRetryTime = now;
  s.hasOnlyBootstrapPeers = false;
  if (is) {
    s.targets = { ...ZERO_TARGETS };
    s.localRoots = EMPTY_LOCAL_ROOTS;
    s.bootstrapPeersTimeout = now + BOOTSTRAP_PEERS_TIMEOUT;
    return [{ type: 'EnterSensitiveState', detail: `deadline ${now + BOOTSTRAP_PEERS_TIMEOUT}` }];
  }
  s.bootstrapPeersTimeout = undefined;
  const forgotten: Peer[] = [];
  for (const [p, info] of s.publicRoots.extra) {
    if (!info.bootstrap || s.established.has(p) || s.inProgressPromoteCold.has(p)) continue;
    forgotten.push(p);
  }
  for (const p of forgotten) forget(s, p);
  return [{ type: 'LeaveSensitiveState', peers: forgotten, count: forgotten.length }];
}

/** `monitorBootstrapPeersFlag`: the topology's bootstrap peers were enabled or disabled. */
export function monitorBootstrapPeersFlag(s: GovernorState, ctx: Ctx): Guarded {
  if (s.consensusMode === 'genesis' || s.useBootstrapPeersVar === s.useBootstrapPeers) return skip();
  return ready(() => {
    const v = s.useBootstrapPeersVar;
    const trace = transition(s, ctx.now, () => {
      s.useBootstrapPeers = v;
    });
    return { trace: [{ type: 'UseBootstrapPeersChanged', detail: String(v) }, ...trace], jobs: [] };
  });
}

/** `monitorLedgerStateJudgement`: consensus judged the ledger state anew. */
export function monitorLedgerStateJudgement(s: GovernorState, ctx: Ctx): Guarded {
  if (s.ledgerStateJudgementVar === s.ledgerStateJudgement) return skip();
  return ready(() => {
    const j = s.ledgerStateJudgementVar;
    const trace = transition(s, ctx.now, () => {
      s.ledgerStateJudgement = j;
    });
    return { trace: [{ type: 'LedgerStateJudgementChanged', detail: j }, ...trace], jobs: [] };
  });
}

/**
 * `waitForSystemToQuiesce`: in the sensitive state, once every known peer is trusted and no
 * promotion, peer-share or root request is in flight, the node "has only bootstrap peers"; the
 * deadline is disarmed and the targets and local-roots monitors resume.
 */
export function waitForSystemToQuiesce(s: GovernorState, _ctx: Ctx): Guarded {
  if (!requiresBootstrapPeers(s) || s.hasOnlyBootstrapPeers) return skip();
  if (
    s.inProgressPromoteCold.size > 0 ||
    s.inProgressPromoteWarm.size > 0 ||
    s.inProgressPeerShareReqs > 0 ||
    s.inProgressBigLedgerPeersReq ||
    s.inProgressPublicRootsReq
  )
    return skip();
  for (const p of s.known.keys()) if (!isTrusted(s, p)) return skip();
  return ready(() => {
    s.hasOnlyBootstrapPeers = true;
    s.bootstrapPeersTimeout = undefined;
    return { trace: [{ type: 'OnlyBootstrapPeers', count: s.known.size }], jobs: [] };
  });
}

/** The reference's Cardano `preBlocking` decisions, first in the priority order. */
export const preBlocking = orElse(monitorBootstrapPeersFlag, monitorLedgerStateJudgement, waitForSystemToQuiesce);

/** A fatal condition the governor reports instead of deciding (the shell decides: restart, exit...). */
export interface CriticalError {
  kind: 'BootstrapPeersCriticalTimeoutError';
  /** The deadline that passed. */
  deadline: Time;
}

/** The loop's abort check: the 15-minute deadline passed before only trusted peers were left. */
export function bootstrapDeadlinePassed(s: GovernorState, now: Time): CriticalError | undefined {
  const t = s.bootstrapPeersTimeout;
  return t !== undefined && now >= t ? { kind: 'BootstrapPeersCriticalTimeoutError', deadline: t } : undefined;
}

/**
 * `readAssociationMode`: a node using neither ledger peers, nor peer sharing, nor bootstrap peers
 * talks only to its local roots (a hidden relay or block producer).
 */
export function associationMode(s: GovernorState, policy: GovernorPolicy): AssociationMode {
  return !s.useLedgerPeers && !policy.peerSharing && !s.useBootstrapPeers ? 'localRootsOnly' : 'unrestricted';
}

export type OutboundConnectionsState = 'trusted' | 'untrusted';

/**
 * What the governor tells consensus about its outbound connections (`outboundConnectionsState`,
 * reconstructed: see docs/governor-deviations.md): in local-roots-only mode, trusted when connected
 * to trustable local roots only; in the bootstrap sensitive state, when connected to trusted peers
 * only and some of them hot; in Genesis mode, with at least 5 hot big ledger peers; otherwise
 * (Praos, caught up or without bootstrap peers) when some peer is hot.
 */
export function outboundConnectionsState(s: GovernorState, policy: GovernorPolicy): OutboundConnectionsState {
  const localTrustable = (p: Peer) => s.localRoots.config.get(p)?.trustable === true;
  if (associationMode(s, policy) === 'localRootsOnly') {
    const est = [...s.established.keys()];
    return est.length > 0 && est.every(localTrustable) ? 'trusted' : 'untrusted';
  }
  if (s.consensusMode === 'genesis') {
    let hotBlp = 0;
    for (const p of s.active) if (s.publicRoots.bigLedger.has(p)) hotBlp++;
    return hotBlp >= MIN_BIG_LEDGER_PEERS_FOR_TRUSTED_STATE ? 'trusted' : 'untrusted';
  }
  if (requiresBootstrapPeers(s)) {
    const onlyTrusted = [...s.established.keys()].every((p) => isTrusted(s, p));
    return onlyTrusted && s.active.size > 0 ? 'trusted' : 'untrusted';
  }
  return s.active.size > 0 ? 'trusted' : 'untrusted';
}

/** The Cardano extra state for reports (`spo governor dry-run --json` key `cardano`). */
export interface CardanoStatus {
  consensusMode: GovernorState['consensusMode'];
  ledgerStateJudgement: GovernorState['ledgerStateJudgement'];
  useBootstrapPeers: boolean;
  /** In the bootstrap sensitive state. */
  sensitive: boolean;
  hasOnlyBootstrapPeers: boolean;
  bootstrapPeersTimeout: Time | null;
  associationMode: AssociationMode;
  outboundConnectionsState: OutboundConnectionsState;
  /** Known / established / active bootstrap peers. */
  bootstrapPeers: { known: number; established: number; active: number };
}

export function cardanoStatus(s: GovernorState, policy: GovernorPolicy): CardanoStatus {
  const b = { known: 0, established: 0, active: 0 };
  for (const [p, info] of s.publicRoots.extra) {
    if (!info.bootstrap) continue;
    b.known++;
    if (s.established.has(p)) b.established++;
    if (s.active.has(p)) b.active++;
  }
  return {
    consensusMode: s.consensusMode,
    ledgerStateJudgement: s.ledgerStateJudgement,
    useBootstrapPeers: s.useBootstrapPeers,
    sensitive: requiresBootstrapPeers(s),
    hasOnlyBootstrapPeers: s.hasOnlyBootstrapPeers,
    bootstrapPeersTimeout: s.bootstrapPeersTimeout ?? null,
    associationMode: associationMode(s, policy),
    outboundConnectionsState: outboundConnectionsState(s, policy),
    bootstrapPeers: b,
  };
}
