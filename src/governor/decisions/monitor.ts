/**
 * Monitors: decisions that react to the world (the reference's `Governor/Monitor.hs` and Cardano's
 * override, governor.md §2.5): asynchronous demotions, completed jobs, target changes and
 * local-root changes. They come first in the priority order.
 */
import { canMakeProgress, clampToTrustable, requiresBootstrapPeers, wantedTargets } from '../bootstrap.js';
import { asyncColdDelay, asyncWarmDelay } from '../policies.js';
import { armTimer, deleteEstablished, insertKnown, reportFailure } from '../state.js';
import {
  clampLocalRoots,
  type GovernorState,
  type LocalRoots,
  localRootsEqual,
  normaliseLocalRoots,
  type Peer,
  saneTargets,
  type TraceEvent,
  targetsEqual,
} from '../types.js';
import * as activePeers from './active-peers.js';
import * as bigLedgerPeers from './big-ledger-peers.js';
import * as establishedPeers from './established-peers.js';
import { type Ctx, type Guarded, newJobId, type Outcome, ready, skip } from './guarded.js';
import * as knownPeers from './known-peers.js';
import * as rootPeers from './root-peers.js';

/**
 * `Monitor.connections`: compares every established peer's reported status with the governor's
 * view and handles demotions the governor did not initiate.
 */
export function connections(s: GovernorState, ctx: Ctx): Guarded {
  // Evaluated before every decision and almost always with nothing to do: a first pass only looks,
  // the lists are made when some peer needs them.
  // The two common cases are passed here without a call: a hot report (hot peers) and a warm
  // report of a peer that is not active (warm peers) ask for nothing.
  const { connStatus, active } = s;
  let any = false;
  for (const p of s.established.keys()) {
    const st = connStatus.get(p);
    if (st === undefined || st.status === 'hot' || (st.status === 'warm' && !active.has(p))) continue;
    if (asyncDemotion(s, p) !== undefined) {
      any = true;
      break;
    }
  }
  if (!any) return skip();
  // Peers and their repromote delays in parallel arrays, not [peer, delay] pairs: destructuring
  // pairs made this rarely optimised function one of the costliest for the optimising compiler.
  const toWarm: Peer[] = [];
  const warmDelays: Array<number | undefined> = [];
  const toCooling: Peer[] = [];
  const toCold: Peer[] = [];
  const coldDelays: Array<number | undefined> = [];
  for (const p of s.established.keys()) {
    const kind = asyncDemotion(s, p);
    if (kind === 'warm') {
      toWarm.push(p);
      warmDelays.push(s.connStatus.get(p)?.repromoteDelayMs);
    } else if (kind === 'cooling') toCooling.push(p);
    else if (kind === 'cold') {
      toCold.push(p);
      coldDelays.push(s.connStatus.get(p)?.repromoteDelayMs);
    }
  }
  return ready(() => demoteAsynchronously(s, ctx, toWarm, warmDelays, toCooling, toCold, coldDelays));
}

/** What the reported status of an established peer asks for, when the governor did not initiate it. */
function asyncDemotion(s: GovernorState, p: Peer): 'warm' | 'cooling' | 'cold' | undefined {
  const st = s.connStatus.get(p);
  // A hot report asks for nothing (the common case: one lookup per hot peer).
  if (!st || st.status === 'hot') return undefined;
  const isActive = s.active.has(p);
  if (st.status === 'warm') return isActive && !s.inProgressDemoteHot.has(p) ? 'warm' : undefined;
  if (st.status === 'cooling')
    return (!isActive && !s.inProgressDemoteWarm.has(p) && !s.inProgressDemoteToCold.has(p)) ||
      (isActive && !s.inProgressDemoteHot.has(p) && !s.inProgressDemoteToCold.has(p))
      ? 'cooling'
      : undefined;
  return !s.inProgressDemoteWarm.has(p) && !s.inProgressDemoteHot.has(p) ? 'cold' : undefined;
}

/** The asynchronous demotions found: warm (repromote delay), cooling, cold (failure and backoff). */
function demoteAsynchronously(
  s: GovernorState,
  ctx: Ctx,
  toWarm: Peer[],
  warmDelays: ReadonlyArray<number | undefined>,
  toCooling: Peer[],
  toCold: Peer[],
  coldDelays: ReadonlyArray<number | undefined>,
): Outcome {
  const trace: TraceEvent[] = [];
  for (let i = 0; i < toWarm.length; i++) {
    const p = toWarm[i] as Peer;
    const delay = warmDelays[i];
    s.active.delete(p);
    s.since.set(p, ctx.now);
    if (delay !== undefined) armTimer(s, s.nextActivate, p, ctx.now + asyncWarmDelay(delay, ctx.rng));
  }
  for (const p of toCooling) {
    if (s.active.delete(p)) s.since.set(p, ctx.now);
    s.inProgressDemoteToCold.add(p);
    s.inProgressPromoteWarm.delete(p);
  }
  const forgotten: Peer[] = [];
  for (let i = 0; i < toCold.length; i++) {
    const p = toCold[i] as Peer;
    const delay = coldDelays[i] ?? 0;
    deleteEstablished(s, p);
    s.inProgressDemoteToCold.delete(p);
    s.inProgressPromoteWarm.delete(p);
    if (reportFailure(s, p, ctx.policy, () => asyncColdDelay(delay, ctx.rng))) forgotten.push(p);
  }
  if (toWarm.length > 0) trace.push({ type: 'DemoteAsynchronousToWarm', peers: toWarm });
  if (toCooling.length > 0) trace.push({ type: 'DemoteAsynchronousToCooling', peers: toCooling });
  if (toCold.length > 0) {
    const e: TraceEvent = { type: 'DemoteAsynchronousToCold', peers: toCold };
    if (forgotten.length > 0) e.detail = `forgotten: ${forgotten.join(' ')}`;
    trace.push(e);
  }
  return { trace, jobs: [] };
}

/** `Monitor.jobs`: applies the first completed job to the current state. */
export function jobs(s: GovernorState, ctx: Ctx): Guarded {
  if (s.completions.length === 0) return skip();
  return ready(() => {
    const c = s.completions.shift();
    if (!c) return { trace: [], jobs: [] };
    switch (c.kind) {
      case 'rootPeers':
        return { trace: rootPeers.complete(s, c, ctx), jobs: [] };
      case 'bigLedgerPeers':
        return { trace: bigLedgerPeers.complete(s, c, ctx), jobs: [] };
      case 'peerShare':
        return { trace: knownPeers.complete(s, c, ctx), jobs: [] };
      case 'connect':
        return { trace: establishedPeers.completeConnect(s, c, ctx), jobs: [] };
      case 'close':
        return { trace: establishedPeers.completeClose(s, c, ctx), jobs: [] };
      case 'activate':
        return { trace: activePeers.completeActivate(s, c, ctx), jobs: [] };
      case 'deactivate':
        return { trace: activePeers.completeDeactivate(s, c, ctx), jobs: [] };
    }
  });
}

/** Local roots are removed from every public-root set (the sets stay disjoint). */
function subtractLocalRoots(s: GovernorState, roots: LocalRoots): void {
  for (const p of roots.config.keys()) {
    s.publicRoots.ledger.delete(p);
    s.publicRoots.bigLedger.delete(p);
    s.publicRoots.extra.delete(p);
  }
}

/**
 * `targetPeers` (Cardano variant): new sane targets are installed, local roots clamped to the new
 * known target (and to trustable ones in the bootstrap sensitive state), local roots removed from
 * public roots. All-zero targets (the variable's initial value before churn writes it) and insane
 * targets are ignored. In Genesis mode the sync targets replace the targets while the ledger state
 * is too old. Paused in the sensitive state until only trusted peers are left.
 */
export function targets(s: GovernorState, ctx: Ctx): Guarded {
  if (!canMakeProgress(s)) return skip();
  const t = wantedTargets(s);
  if (targetsEqual(t, s.targets) || !saneTargets(t, ctx.policy.sanityLimits)) return skip();
  if (Object.values(t).every((v) => v === 0)) return skip();
  return ready(() => {
    s.targets = { ...t };
    // Trustable local roots first (sensitive state), then the known-target limit.
    s.localRoots = clampLocalRoots(requiresBootstrapPeers(s) ? clampToTrustable(s.localRoots) : s.localRoots, t.known);
    subtractLocalRoots(s, s.localRoots);
    return { trace: [{ type: 'TargetsChanged', detail: JSON.stringify(t) }], jobs: [] };
  });
}

/** The last configuration normalised, per configuration value (inputs are never changed in place). */
const wanted = new WeakMap<object, { sensitive: boolean; known: number; roots: LocalRoots }>();

/** The configured groups normalised and clamped; the same value again while nothing changed. */
function wantedLocalRoots(groups: GovernorState['localRootsVar'], sensitive: boolean, known: number): LocalRoots {
  const hit = wanted.get(groups);
  if (hit && hit.sensitive === sensitive && hit.known === known) return hit.roots;
  const normalised = normaliseLocalRoots(groups);
  const roots = clampLocalRoots(sensitive ? clampToTrustable(normalised) : normalised, known);
  wanted.set(groups, { sensitive, known, roots });
  return roots;
}

/**
 * `localRoots`: install the normalised, clamped configuration. New local roots become known with
 * their advertise flag; removed ones stay known (they may have live connections) but lose root
 * status, and those that are hot are demoted to warm so that replacements can be promoted.
 */
export function localRoots(s: GovernorState, _ctx: Ctx): Guarded {
  // Paused in the sensitive state until only trusted peers are left; then trustable ones only.
  if (!canMakeProgress(s)) return skip();
  const sensitive = requiresBootstrapPeers(s);
  const next = wantedLocalRoots(s.localRootsVar, sensitive, s.targets.known);
  if (next === s.localRoots) return skip();
  if (localRootsEqual(next, s.localRoots)) {
    // The same roots as another value (the targets monitor clamps into a new one): adopt the
    // equal value, so that the next evaluations compare by identity instead of member by member.
    s.localRoots = next;
    return skip();
  }
  return ready(() => {
    const old = s.localRoots;
    const added: Peer[] = [];
    for (const [p, cfg] of next.config) {
      if (!old.config.has(p)) {
        added.push(p);
        insertKnown(s, p, { advertise: cfg.advertise, origin: 'local-root' });
      }
    }
    const removed = [...old.config.keys()].filter((p) => !next.config.has(p));
    s.localRoots = next;
    subtractLocalRoots(s, next);
    const jobs = [];
    const demote: Peer[] = [];
    for (const p of removed) {
      if (s.active.has(p) && !s.inProgressDemoteHot.has(p) && !s.inProgressDemoteToCold.has(p)) {
        s.inProgressDemoteHot.add(p);
        demote.push(p);
        jobs.push({ kind: 'deactivate' as const, id: newJobId(s), peer: p });
      }
    }
    const trace: TraceEvent[] = [{ type: 'LocalRootPeersChanged', peers: added, count: removed.length }];
    // A local root that is no longer trustable may still be known (even connected) in the sensitive
    // state: the clean-state protocol is forced again by installing `youngEnough`, which the
    // judgement monitor then sees change back to `tooOld`.
    let onlyTrusted = true;
    for (const p of s.known.keys())
      if (!next.config.has(p) && s.publicRoots.extra.get(p)?.bootstrap !== true) {
        onlyTrusted = false;
        break;
      }
    s.hasOnlyBootstrapPeers = onlyTrusted;
    if (sensitive && !onlyTrusted) {
      s.ledgerStateJudgement = 'youngEnough';
      s.progressEnabled = true;
      trace.push({ type: 'LedgerStateJudgementChanged', detail: 'youngEnough' });
    }
    if (demote.length > 0) trace.push({ type: 'DemoteLocalHotPeers', peers: demote, detail: 'no longer local roots' });
    return { trace, jobs };
  });
}
