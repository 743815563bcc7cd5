/**
 * Established peers (the reference's `Governor/EstablishedPeers.hs`, governor.md §2.5).
 * Below target (cold->warm), in priority order: big ledger peers, local roots (per group, up to the
 * warm valency; may overshoot the general target), other peers. Above target (warm->cold): big
 * ledger peers, other peers (never local roots). Every count subtracts in-flight work.
 */
import { connectFailureDelay, pickUniform, pickWarmToDemote } from '../policies.js';
import {
  deleteEstablished,
  earlier,
  insertEstablished,
  insertKnown,
  reportFailure,
  SAMPLING_THRESHOLD,
  sampleKnown,
} from '../state.js';
import type { Completion, GovernorEventType, GovernorState, Job, Peer, TraceEvent } from '../types.js';
import { blpCounts, type Ctx, type Guarded, newJobId, orElse, ready, skip } from './guarded.js';

function promote(
  s: GovernorState,
  picked: Peer[],
  trace: GovernorEventType,
  count: number,
): { trace: TraceEvent[]; jobs: Job[] } {
  const jobs: Job[] = [];
  for (const p of picked) {
    s.inProgressPromoteCold.add(p);
    const cfg = s.localRoots.config.get(p);
    jobs.push({
      kind: 'connect',
      id: newJobId(s),
      peer: p,
      // Local roots dial with their group's mode and provenance; others as a duplex initiator.
      diffusionMode: cfg?.diffusionMode ?? 'InitiatorAndResponder',
      behindFirewall: cfg?.behindFirewall ?? false,
    });
  }
  return { trace: [{ type: trace, peers: picked, count }], jobs };
}

/** A cold peer we could dial now: known, not backed off, not established, not being promoted. */
function dialable(s: GovernorState, p: Peer): boolean {
  return !s.nextConnect.has(p) && !s.established.has(p) && !s.inProgressPromoteCold.has(p);
}

function belowTargetBigLedger(s: GovernorState, ctx: Ctx): Guarded {
  if (!s.progressEnabled) return skip();
  const blp = s.publicRoots.bigLedger;
  const b = blpCounts(s, ctx);
  const numToPromote = s.targets.establishedBigLedger - b.established - b.promoteCold;
  if (numToPromote <= 0) return skip();
  const candidates: Peer[] = [];
  let wake: number | undefined;
  for (const p of blp) {
    if (dialable(s, p)) candidates.push(p);
    else {
      // The skip's wake-up: the earliest backoff among the big ledger peers.
      const t = s.nextConnect.get(p);
      if (t !== undefined && (wake === undefined || t < wake)) wake = t;
    }
  }
  if (candidates.length === 0) return skip(wake);
  return ready(() =>
    promote(
      s,
      pickUniform(candidates, numToPromote, ctx.rng),
      'PromoteColdBigLedgerPeers',
      s.targets.establishedBigLedger,
    ),
  );
}

function belowTargetLocal(s: GovernorState, ctx: Ctx): Guarded {
  // Evaluated before almost every decision, and usually every group is at its valency: a first
  // pass only counts (no lists), and gives the skip's wake-up time when no group can promote.
  let wake: number | undefined;
  let any = false;
  for (const g of s.localRoots.groups) {
    let est = 0;
    let inProgress = 0;
    let candidates = 0;
    for (const p of g.members) {
      if (s.established.has(p)) est++;
      else if (s.inProgressPromoteCold.has(p)) inProgress++;
      else {
        const t = s.nextConnect.get(p);
        if (t !== undefined) {
          if (wake === undefined || t < wake) wake = t;
        } else if (s.known.has(p)) candidates++;
      }
    }
    if (g.warmValency - est - inProgress > 0 && candidates > 0) {
      any = true;
      break;
    }
  }
  if (!any) return skip(wake);
  const perGroup: Array<{ candidates: Peer[]; n: number }> = [];
  let wait: number | undefined;
  for (const g of s.localRoots.groups) {
    let est = 0;
    let inProgress = 0;
    const candidates: Peer[] = [];
    for (const p of g.members) {
      if (s.established.has(p)) est++;
      else if (s.inProgressPromoteCold.has(p)) inProgress++;
      else if (s.nextConnect.has(p)) wait = earlier(wait, s.nextConnect.get(p));
      else if (s.known.has(p)) candidates.push(p);
    }
    const n = g.warmValency - est - inProgress;
    if (n > 0 && candidates.length > 0) perGroup.push({ candidates, n });
  }
  if (perGroup.length === 0) return skip(wait);
  return ready(() => {
    const picked: Peer[] = [];
    for (const g of perGroup) picked.push(...pickUniform(g.candidates, g.n, ctx.rng));
    return promote(s, picked, 'PromoteColdLocalPeers', picked.length);
  });
}

function belowTargetOther(s: GovernorState, ctx: Ctx): Guarded {
  const b = blpCounts(s, ctx);
  const numToPromote =
    s.targets.established - (s.established.size - b.established) - (s.inProgressPromoteCold.size - b.promoteCold);
  if (numToPromote <= 0) return skip();
  // Sampling applies to large known sets only (the predicate is made only then).
  if (s.knownList.length >= SAMPLING_THRESHOLD) {
    const cold = (p: Peer) =>
      !s.publicRoots.bigLedger.has(p) &&
      !s.localRoots.config.has(p) &&
      !s.established.has(p) &&
      !s.inProgressPromoteCold.has(p) &&
      !s.nextConnect.has(p);
    const sampled = sampleKnown(s, numToPromote, ctx.rng, cold);
    if (sampled) return ready(() => promote(s, sampled, 'PromoteColdPeers', s.targets.established));
  }
  const candidates: Peer[] = [];
  let wake: number | undefined;
  for (const p of s.known.keys()) {
    if (s.publicRoots.bigLedger.has(p) || s.localRoots.config.has(p)) continue;
    if (s.established.has(p) || s.inProgressPromoteCold.has(p)) continue;
    const t = s.nextConnect.get(p);
    if (t !== undefined) {
      if (wake === undefined || t < wake) wake = t;
      continue;
    }
    candidates.push(p);
  }
  if (candidates.length === 0) return skip(wake);
  return ready(() =>
    promote(s, pickUniform(candidates, numToPromote, ctx.rng), 'PromoteColdPeers', s.targets.established),
  );
}

export const belowTarget = orElse(belowTargetBigLedger, belowTargetLocal, belowTargetOther);

function demote(
  s: GovernorState,
  picked: Peer[],
  trace: GovernorEventType,
  count: number,
): { trace: TraceEvent[]; jobs: Job[] } {
  const jobs: Job[] = [];
  for (const p of picked) {
    s.inProgressDemoteWarm.add(p);
    jobs.push({ kind: 'close', id: newJobId(s), peer: p });
  }
  return { trace: [{ type: trace, peers: picked, count }], jobs };
}

function warmCandidate(s: GovernorState, p: Peer): boolean {
  return (
    !s.active.has(p) &&
    !s.localRoots.config.has(p) &&
    !s.inProgressDemoteWarm.has(p) &&
    !s.inProgressPromoteWarm.has(p) &&
    !s.inProgressDemoteToCold.has(p)
  );
}

function aboveTargetOther(s: GovernorState, ctx: Ctx): Guarded {
  // Nothing to demote while at or below target (the common case): no pass over the peers.
  const b = blpCounts(s, ctx);
  if (s.established.size - b.established <= s.targets.established) return skip();
  let est = 0;
  let active = 0;
  let warmLocal = 0;
  let coolingWarm = 0;
  const candidates: Peer[] = [];
  for (const p of s.established.keys()) {
    if (s.publicRoots.bigLedger.has(p)) continue;
    est++;
    if (s.active.has(p)) active++;
    else {
      if (s.localRoots.config.has(p)) warmLocal++;
      if (s.inProgressDemoteToCold.has(p)) coolingWarm++;
    }
    if (warmCandidate(s, p)) candidates.push(p);
  }
  if (est <= s.targets.established || est <= active) return skip();
  const n =
    Math.min(est - s.targets.established, est - warmLocal - active) -
    (s.inProgressDemoteWarm.size - b.demoteWarm) -
    (s.inProgressPromoteWarm.size - b.promoteWarm) -
    coolingWarm;
  if (n <= 0 || candidates.length === 0) return skip();
  return ready(() => demote(s, pickWarmToDemote(s, candidates, n, ctx.rng), 'DemoteWarmPeers', s.targets.established));
}

function aboveTargetBigLedger(s: GovernorState, ctx: Ctx): Guarded {
  // Nothing to demote while at or below target (the common case): no pass over the peers.
  if (blpCounts(s, ctx).established <= s.targets.establishedBigLedger) return skip();
  let est = 0;
  let active = 0;
  let cooling = 0;
  const candidates: Peer[] = [];
  for (const p of s.publicRoots.bigLedger) {
    if (!s.established.has(p)) continue;
    est++;
    if (s.active.has(p)) active++;
    else if (s.inProgressDemoteToCold.has(p)) cooling++;
    if (warmCandidate(s, p)) candidates.push(p);
  }
  if (est <= s.targets.establishedBigLedger || est <= active) return skip();
  // The reference subtracts the whole in-flight warm demotion/promotion sets here (§14.3.9).
  const n =
    Math.min(est - s.targets.establishedBigLedger, est - active) -
    s.inProgressDemoteWarm.size -
    s.inProgressPromoteWarm.size -
    cooling;
  if (n <= 0 || candidates.length === 0) return skip();
  return ready(() =>
    demote(s, pickWarmToDemote(s, candidates, n, ctx.rng), 'DemoteWarmBigLedgerPeers', s.targets.establishedBigLedger),
  );
}

export const aboveTarget = orElse(aboveTargetBigLedger, aboveTargetOther);

/** `jobPromoteColdPeer`'s completion. */
export function completeConnect(s: GovernorState, c: Extract<Completion, { kind: 'connect' }>, ctx: Ctx): TraceEvent[] {
  s.inProgressPromoteCold.delete(c.peer);
  if (c.ok) {
    insertEstablished(s, c.peer, c.sharing, ctx.policy);
    // Record the remote's sharing flag; the advertise flag is derived from it only for an unknown peer.
    if (!s.known.has(c.peer))
      insertKnown(s, c.peer, { sharing: c.sharing, advertise: c.sharing, origin: 'peer-share' });
    const info = s.known.get(c.peer);
    if (info) s.known.set(c.peer, { ...info, sharing: c.sharing, successfulConnection: true, tepid: false });
    // Success does not reset the fail count (only the hot clear timer does, §2.6).
    return [{ type: 'PromoteColdDone', peers: [c.peer] }];
  }
  const forgotten = reportFailure(s, c.peer, ctx.policy, (n) => connectFailureDelay(n, ctx.rng));
  return [{ type: 'PromoteColdFailed', peers: [c.peer], detail: forgotten ? `${c.error}; forgotten` : c.error }];
}

/** `jobDemoteEstablishedPeer`'s completion: the shell waited (<= 600 s) for the peer to be cold. */
export function completeClose(s: GovernorState, c: Extract<Completion, { kind: 'close' }>, _ctx: Ctx): TraceEvent[] {
  s.inProgressDemoteWarm.delete(c.peer);
  if (c.becameCold) {
    if (s.established.has(c.peer)) deleteEstablished(s, c.peer);
    s.inProgressDemoteToCold.delete(c.peer);
    s.inProgressPromoteWarm.delete(c.peer);
    return [{ type: 'DemoteWarmDone', peers: [c.peer] }];
  }
  // DemotionTimeoutException: keep the peer in established (the monitor will see it cooling).
  return [{ type: 'DemoteWarmTimeout', peers: [c.peer] }];
}
