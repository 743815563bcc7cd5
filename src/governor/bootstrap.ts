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
export const BOOTSTRAP_PEERS_TIMEOUT_MS = 15 * 60_000;
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

/** Bootstrap peers that are neither established nor being promoted: forgotten when bootstrap peers go out of use. */
function forgetNonEstablishedBootstrapPeers(s: GovernorState): Peer[] {
  const forgotten: Peer[] = [];
  for (const [p, info] of s.publicRoots.extra) {
    if (!info.bootstrap || s.established.has(p) || s.inProgressPromoteCold.has(p) || s.inProgressPromoteWarm.has(p))
      continue;
    forgotten.push(p);
  }
  for (const p of forgotten) forget(s, p);
  return forgotten;
}

/**
 * `monitorBootstrapPeersFlag` (Praos only): the user enabled or disabled bootstrap peers. Either way
 * the bootstrap peers not in use are forgotten and the installed judgement becomes `youngEnough`:
 * if the node is behind, the judgement monitor then sees `tooOld` again and enters the sensitive
 * state; if bootstrap peers were disabled, the monitors paused by the sensitive state resume.
 */
export function monitorBootstrapPeersFlag(s: GovernorState, _ctx: Ctx): Guarded {
  if (s.consensusMode === 'genesis' || s.useBootstrapPeersVar === s.useBootstrapPeers) return skip();
  return ready(() => {
    const forgotten = forgetNonEstablishedBootstrapPeers(s);
    s.useBootstrapPeers = s.useBootstrapPeersVar;
    s.ledgerStateJudgement = 'youngEnough';
    s.hasOnlyBootstrapPeers = false;
    s.bootstrapPeersTimeout = undefined;
    s.progressEnabled = !requiresBootstrapPeers(s);
    return {
      trace: [{ type: 'UseBootstrapPeersChanged', detail: String(s.useBootstrapPeers), peers: forgotten }],
      jobs: [],
    };
  });
}

/**
 * `monitorLedgerStateJudgement`. Genesis mode: records the judgement (the targets monitor then
 * switches between deadline and sync targets). Praos with bootstrap peers: `tooOld` enters the
 * sensitive state (targets and local roots zeroed, root-request backoff reset, 15-minute deadline
 * armed); `youngEnough` leaves it (non-established bootstrap peers forgotten, deadline disarmed).
 * Praos without bootstrap peers: not watched.
 */
export function monitorLedgerStateJudgement(s: GovernorState, ctx: Ctx): Guarded {
  if (s.ledgerStateJudgementVar === s.ledgerStateJudgement) return skip();
  if (s.consensusMode === 'genesis')
    return ready(() => {
      s.ledgerStateJudgement = s.ledgerStateJudgementVar;
      return { trace: [{ type: 'LedgerStateJudgementChanged', detail: s.ledgerStateJudgement }], jobs: [] };
    });
  if (!s.useBootstrapPeers) return skip();
  return ready(() => {
    const j = s.ledgerStateJudgementVar;
    const trace: TraceEvent[] = [{ type: 'LedgerStateJudgementChanged', detail: j }];
    s.ledgerStateJudgement = j;
    s.publicRootBackoffs = 0;
    s.publicRootRetryTime = ctx.now;
    s.hasOnlyBootstrapPeers = false;
    if (j === 'tooOld') {
      s.targets = { ...ZERO_TARGETS };
      s.localRoots = EMPTY_LOCAL_ROOTS;
      s.bootstrapPeersTimeout = ctx.now + BOOTSTRAP_PEERS_TIMEOUT_MS;
      trace.push({ type: 'EnterSensitiveState', detail: `deadline ${s.bootstrapPeersTimeout / 1000}` });
    } else {
      s.bootstrapPeersTimeout = undefined;
      const forgotten = forgetNonEstablishedBootstrapPeers(s);
      trace.push({ type: 'LeaveSensitiveState', peers: forgotten, count: forgotten.length });
    }
    s.progressEnabled = !requiresBootstrapPeers(s);
    return { trace, jobs: [] };
  });
}

/**
 * `waitForSystemToQuiesce`: in the sensitive state, once every local root is trustable, every known
 * peer is a bootstrap peer or a trustable local root and no promotion, peer-share or root request
 * is in flight, the node "has only bootstrap peers"; the deadline is disarmed and the targets and
 * local-roots monitors resume.
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
  for (const c of s.localRoots.config.values()) if (!c.trustable) return skip();
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
 * What the governor tells consensus about its outbound connections (`outboundConnectionsState`):
 * local roots only: trusted when every established peer is a trustable local root; with bootstrap
 * peers: when every established (non big ledger) peer is a bootstrap peer or a trustable local root
 * and some bootstrap peer is hot; Praos without bootstrap peers: never; Genesis: with at least
 * `MinBigLedgerPeersForTrustedState` (5) hot big ledger peers.
 */
export function outboundConnectionsState(s: GovernorState, policy: GovernorPolicy): OutboundConnectionsState {
  const trustableLocal = (p: Peer) => s.localRoots.config.get(p)?.trustable === true;
  const establishedNonBlp = () => [...s.established.keys()].filter((p) => !s.publicRoots.bigLedger.has(p));
  if (associationMode(s, policy) === 'localRootsOnly')
    return establishedNonBlp().every(trustableLocal) ? 'trusted' : 'untrusted';
  if (s.useBootstrapPeers) {
    const isBootstrap = (p: Peer) => s.publicRoots.extra.get(p)?.bootstrap === true;
    const onlyTrusted = establishedNonBlp().every((p) => isBootstrap(p) || trustableLocal(p));
    const hotBootstrap = [...s.active].some(isBootstrap);
    return onlyTrusted && hotBootstrap ? 'trusted' : 'untrusted';
  }
  if (s.consensusMode === 'praos') return 'untrusted';
  let hotBlp = 0;
  for (const p of s.active) if (s.publicRoots.bigLedger.has(p)) hotBlp++;
  return hotBlp >= MIN_BIG_LEDGER_PEERS_FOR_TRUSTED_STATE ? 'trusted' : 'untrusted';
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
    // As consensus judges it (the installed value is not tracked in Praos without bootstrap peers).
    ledgerStateJudgement: s.ledgerStateJudgementVar,
    useBootstrapPeers: s.useBootstrapPeers,
    sensitive: requiresBootstrapPeers(s),
    hasOnlyBootstrapPeers: s.hasOnlyBootstrapPeers,
    bootstrapPeersTimeout: s.bootstrapPeersTimeout ?? null,
    associationMode: associationMode(s, policy),
    outboundConnectionsState: outboundConnectionsState(s, policy),
    bootstrapPeers: b,
  };
}
