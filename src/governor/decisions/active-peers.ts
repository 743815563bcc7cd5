/**
 * Active peers (the reference's `Governor/ActivePeers.hs`, governor.md §2.5).
 * Below target (warm->hot): big ledger peers, local roots (per group, up to the hot valency), other
 * peers; uniform random picks. Above target (hot->warm): big ledger peers, local-root groups above
 * their hot valency, other peers, lowest upstreamness first. Local roots are never demoted to
 * satisfy the general active target.
 */
import { activateFailureDelay, pickHotToDemote, pickUniform } from '../policies.js';
import { armTimer, deleteEstablished, earlier, reportFailure, updateKnown } from '../state.js';
import type { Completion, GovernorEventType, GovernorState, Job, Peer, TraceEvent } from '../types.js';
import { blpCounts, type Ctx, type Guarded, newJobId, orElse, ready, skip } from './guarded.js';

/** A warm peer that could go hot now: ready, not active, not in any in-flight set. */
function promotable(s: GovernorState, p: Peer): boolean {
  return (
    !s.active.has(p) &&
    !s.nextActivate.has(p) &&
    !s.inProgressPromoteWarm.has(p) &&
    !s.inProgressDemoteWarm.has(p) &&
    !s.inProgressDemoteToCold.has(p)
  );
}

function promote(
  s: GovernorState,
  picked: Peer[],
  trace: GovernorEventType,
  count: number,
): { trace: TraceEvent[]; jobs: Job[] } {
  const jobs: Job[] = [];
  for (const p of picked) {
    s.inProgressPromoteWarm.add(p);
    jobs.push({ kind: 'activate', id: newJobId(s), peer: p });
  }
  return { trace: [{ type: trace, peers: picked, count }], jobs };
}

function belowTargetBigLedger(s: GovernorState, ctx: Ctx): Guarded {
  if (!s.progressEnabled) return skip();
  const b = blpCounts(s, ctx);
  const n = s.targets.activeBigLedger - b.active - b.promoteWarm;
  if (n <= 0) return skip();
  const candidates: Peer[] = [];
  let wake: number | undefined;
  for (const p of s.publicRoots.bigLedger) {
    if (!s.established.has(p)) continue;
    if (promotable(s, p)) candidates.push(p);
    else wake = earlier(wake, s.nextActivate.get(p));
  }
  if (candidates.length === 0) return skip(wake);
  return ready(() =>
    promote(s, pickUniform(candidates, n, ctx.rng), 'PromoteWarmBigLedgerPeers', s.targets.activeBigLedger),
  );
}

function belowTargetLocal(s: GovernorState, ctx: Ctx): Guarded {
  // As in established-peers.ts: a first pass only counts, and gives the skip's wake-up time.
  let wake: number | undefined;
  let any = false;
  for (const g of s.localRoots.groups) {
    let active = 0;
    let inProgress = 0;
    let candidates = 0;
    for (const p of g.members) {
      if (s.active.has(p)) active++;
      else if (s.inProgressPromoteWarm.has(p)) inProgress++;
      else if (s.established.has(p)) {
        if (promotable(s, p)) candidates++;
        else {
          const t = s.nextActivate.get(p);
          if (t !== undefined && (wake === undefined || t < wake)) wake = t;
        }
      }
    }
    if (g.hotValency - active - inProgress > 0 && candidates > 0) {
      any = true;
      break;
    }
  }
  if (!any) return skip(wake);
  const perGroup: Array<{ candidates: Peer[]; n: number }> = [];
  let wait: number | undefined;
  for (const g of s.localRoots.groups) {
    let active = 0;
    let inProgress = 0;
    const candidates: Peer[] = [];
    for (const p of g.members) {
      if (s.active.has(p)) active++;
      else if (s.inProgressPromoteWarm.has(p)) inProgress++;
      else if (s.established.has(p)) {
        if (promotable(s, p)) candidates.push(p);
        else wait = earlier(wait, s.nextActivate.get(p));
      }
    }
    const n = g.hotValency - active - inProgress;
    if (n > 0 && candidates.length > 0) perGroup.push({ candidates, n });
  }
  if (perGroup.length === 0) return skip(wait);
  return ready(() => {
    const picked: Peer[] = [];
    for (const g of perGroup) picked.push(...pickUniform(g.candidates, g.n, ctx.rng));
    return promote(s, picked, 'PromoteWarmLocalPeers', picked.length);
  });
}

function belowTargetOther(s: GovernorState, ctx: Ctx): Guarded {
  const b = blpCounts(s, ctx);
  const n = s.targets.active - (s.active.size - b.active) - (s.inProgressPromoteWarm.size - b.promoteWarm);
  if (n <= 0) return skip();
  const candidates: Peer[] = [];
  let wake: number | undefined;
  for (const p of s.established.keys()) {
    if (s.publicRoots.bigLedger.has(p) || s.localRoots.config.has(p)) continue;
    if (promotable(s, p)) candidates.push(p);
    else if (!s.active.has(p)) wake = earlier(wake, s.nextActivate.get(p));
  }
  if (candidates.length === 0) return skip(wake);
  return ready(() => promote(s, pickUniform(candidates, n, ctx.rng), 'PromoteWarmPeers', s.targets.active));
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
    s.inProgressDemoteHot.add(p);
    jobs.push({ kind: 'deactivate', id: newJobId(s), peer: p });
  }
  return { trace: [{ type: trace, peers: picked, count }], jobs };
}

const demotable = (s: GovernorState, p: Peer) => !s.inProgressDemoteHot.has(p) && !s.inProgressDemoteToCold.has(p);

function aboveTargetBigLedger(s: GovernorState, ctx: Ctx): Guarded {
  // n <= active − target − in-flight demotions: nothing to demote at or below that (no pass).
  const b = blpCounts(s, ctx);
  if (b.active - s.targets.activeBigLedger - b.demoteHot <= 0) return skip();
  let active = 0;
  let cooling = 0;
  const candidates: Peer[] = [];
  for (const p of s.publicRoots.bigLedger) {
    if (!s.active.has(p)) continue;
    active++;
    if (s.inProgressDemoteToCold.has(p)) cooling++;
    if (demotable(s, p) && !s.localRoots.config.has(p)) candidates.push(p);
  }
  const n = active - s.targets.activeBigLedger - b.demoteHot - cooling;
  if (n <= 0 || candidates.length === 0) return skip();
  return ready(() =>
    demote(
      s,
      pickHotToDemote(candidates, n, ctx.rng, ctx.metrics),
      'DemoteHotBigLedgerPeers',
      s.targets.activeBigLedger,
    ),
  );
}

function aboveTargetLocal(s: GovernorState, ctx: Ctx): Guarded {
  // The reference subtracts the global in-flight counts here, not the group's (§14.3.9).
  let coolingActive = 0;
  for (const p of s.inProgressDemoteToCold) if (s.active.has(p)) coolingActive++;
  const inFlight = s.inProgressDemoteHot.size + coolingActive;
  const perGroup: Array<{ candidates: Peer[]; n: number }> = [];
  for (const g of s.localRoots.groups) {
    // A group no larger than its hot valency plus the in-flight count cannot be above it (the
    // common case): passed without building its lists.
    if (g.members.length - g.hotValency - inFlight <= 0) continue;
    // Counted first: the lists are made only for a group above its valency.
    let activeMembers = 0;
    for (const p of g.members) if (s.active.has(p)) activeMembers++;
    const n = activeMembers - g.hotValency - inFlight;
    if (n <= 0) continue;
    const candidates = g.members.filter((p) => s.active.has(p) && demotable(s, p));
    if (candidates.length > 0) perGroup.push({ candidates, n });
  }
  if (perGroup.length === 0) return skip();
  return ready(() => {
    const picked: Peer[] = [];
    for (const g of perGroup) picked.push(...pickHotToDemote(g.candidates, g.n, ctx.rng, ctx.metrics));
    return demote(s, picked, 'DemoteLocalHotPeers', picked.length);
  });
}

function aboveTargetOther(s: GovernorState, ctx: Ctx): Guarded {
  // n <= active − target: nothing to demote while at or below target (no pass over the peers).
  const b = blpCounts(s, ctx);
  if (s.active.size - b.active <= s.targets.active) return skip();
  let active = 0;
  let cooling = 0;
  const candidates: Peer[] = [];
  for (const p of s.active) {
    if (s.publicRoots.bigLedger.has(p)) continue;
    active++;
    if (s.inProgressDemoteToCold.has(p)) cooling++;
    if (demotable(s, p) && !s.localRoots.config.has(p)) candidates.push(p);
  }
  const n = active - s.targets.active - (s.inProgressDemoteHot.size - b.demoteHot) - cooling;
  if (n <= 0 || candidates.length === 0) return skip();
  return ready(() =>
    demote(s, pickHotToDemote(candidates, n, ctx.rng, ctx.metrics), 'DemoteHotPeers', s.targets.active),
  );
}

export const aboveTarget = orElse(aboveTargetBigLedger, aboveTargetLocal, aboveTargetOther);

/**
 * `jobPromoteWarmPeer`'s completion. Deviation (docs/governor-deviations.md): a success is applied
 * only if the peer is still being promoted (no racing demotion removed it from the in-flight set),
 * which avoids the broken assertion the reference's nightly race exploration reports.
 */
export function completeActivate(
  s: GovernorState,
  c: Extract<Completion, { kind: 'activate' }>,
  ctx: Ctx,
): TraceEvent[] {
  const wasInFlight = s.inProgressPromoteWarm.delete(c.peer);
  if (c.ok) {
    if (wasInFlight && s.established.has(c.peer) && !s.inProgressDemoteToCold.has(c.peer)) {
      s.active.add(c.peer);
      s.since.set(c.peer, ctx.now);
      armTimer(s, s.clearFailCount, c.peer, ctx.now + ctx.policy.clearFailCountDelayMs);
      return [{ type: 'PromoteWarmDone', peers: [c.peer] }];
    }
    return [{ type: 'PromoteWarmAborted', peers: [c.peer] }];
  }
  if (!wasInFlight) return [{ type: 'PromoteWarmAborted', peers: [c.peer], detail: c.error ?? 'failed' }];
  if (s.established.has(c.peer)) deleteEstablished(s, c.peer);
  const forgotten = reportFailure(s, c.peer, ctx.policy, () => activateFailureDelay(ctx.policy, ctx.rng));
  return [
    {
      type: 'PromoteWarmFailed',
      peers: [c.peer],
      detail: `${c.error ?? 'failed'}${forgotten ? '; forgotten' : ''}`,
    },
  ];
}

/** `jobDemoteActivePeer`'s completion. */
export function completeDeactivate(
  s: GovernorState,
  c: Extract<Completion, { kind: 'deactivate' }>,
  ctx: Ctx,
): TraceEvent[] {
  s.inProgressDemoteHot.delete(c.peer);
  if (c.ok) {
    if (s.active.delete(c.peer)) s.since.set(c.peer, ctx.now);
    updateKnown(s, c.peer, { tepid: true });
    return [{ type: 'DemoteHotDone', peers: [c.peer] }];
  }
  if (c.becameCold) {
    if (s.established.has(c.peer)) deleteEstablished(s, c.peer);
    s.inProgressDemoteToCold.delete(c.peer);
    s.inProgressDemoteWarm.delete(c.peer);
    s.inProgressPromoteWarm.delete(c.peer);
    updateKnown(s, c.peer, { tepid: true });
    return [{ type: 'DemoteHotFailed', peers: [c.peer], detail: 'connection closed' }];
  }
  return [{ type: 'DemoteHotTimeout', peers: [c.peer] }];
}
