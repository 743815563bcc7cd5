/**
 * Known peers (the reference's `Governor/KnownPeers.hs`, governor.md §2.5, §7).
 * Below target: learn peers from mature inbound peers ("light peer sharing") or by peer sharing
 * with established peers; above target: forget cold peers (failure-biased), never local roots, and
 * public roots only while there are more roots than the root target.
 */
import { orderBySalt, peerShareAmount, pickColdToForget, pickUniform } from '../policies.js';
import { armTimer, earlier, forget, insertKnown, updateKnown } from '../state.js';
import {
  type Completion,
  counters,
  type GovernorState,
  numberOfRootPeers,
  type Peer,
  type TraceEvent,
} from '../types.js';
import { blpCounts, type Ctx, type Guarded, newJobId, ready, skip } from './guarded.js';

function numKnown(s: GovernorState): number {
  return s.known.size - s.publicRoots.bigLedger.size;
}

/** Established peers we may ask now: share timer expired, remote sharing on, not cooling. */
function availableForPeerShare(s: GovernorState): Peer[] {
  const out: Peer[] = [];
  for (const p of s.availableForShare) if (!s.inProgressDemoteToCold.has(p)) out.push(p);
  return out;
}

const NOBODY: readonly Peer[] = Object.freeze([]);

export function belowTarget(s: GovernorState, ctx: Ctx): Guarded {
  const { policy, now, rng } = ctx;
  const objective = s.targets.known - numKnown(s);
  if (!policy.peerSharing || objective <= 0 || !s.progressEnabled) return skip();
  const possible = policy.maxInProgressPeerShareReqs - s.inProgressPeerShareReqs;
  // Only read when a request is possible (otherwise neither the coin below nor step 2 needs it).
  const shareable = possible > 0 ? availableForPeerShare(s) : NOBODY;

  // 1. Light peer sharing: unknown mature inbound peers.
  if (s.inProgressPeerShareReqs === 0 && now >= s.inboundPeersRetryTime) {
    const unknownInbound: Peer[] = [];
    for (const p of s.inboundPeers.keys()) if (!s.known.has(p)) unknownInbound.push(p);
    if (unknownInbound.length > 0) {
      // The coin is tossed only when evaluated; a tail with someone to ask falls through to 2.
      const useInbound = shareable.length === 0 || possible <= 0 || rng.chance(0.5);
      if (useInbound) {
        return ready(() => {
          const n = Math.min(policy.maxInboundPeers, objective);
          const picked = pickUniform(unknownInbound, n, rng);
          for (const p of picked) {
            insertKnown(s, p, { sharing: s.inboundPeers.get(p) ?? false, advertise: true, origin: 'inbound' });
            updateKnown(s, p, { successfulConnection: true });
          }
          s.inboundPeersRetryTime = now + policy.inboundPeersRetryDelayMs;
          return { trace: [{ type: 'PickInboundPeers', peers: picked, count: objective }], jobs: [] };
        });
      }
    }
  }

  // 2. Peer sharing with established peers.
  if (possible > 0 && shareable.length > 0) {
    return ready(() => {
      const picked = pickUniform(shareable, possible, rng);
      const amount = peerShareAmount(objective, picked.length);
      for (const p of picked) {
        s.availableForShare.delete(p);
        armTimer(s, s.nextShare, p, now + policy.peerShareRetryTimeMs);
      }
      s.inProgressPeerShareReqs += picked.length;
      const id = newJobId(s);
      const salt = rng.nextU32();
      s.peerShareJobs.set(id, { pending: new Set(picked), salt });
      return {
        trace: [{ type: 'PeerShareRequests', peers: picked, count: amount }],
        jobs: [{ kind: 'peerShare', id, peers: picked, amount, salt }],
      };
    });
  }

  // 3. Nobody to ask now: wake up when the first share timer expires.
  let wake: number | undefined;
  for (const t of s.nextShare.values()) wake = earlier(wake, t);
  return skip(wake);
}

/**
 * A phase of a peer-share job's results: received addresses minus already-known and big ledger
 * peers, ordered by the job's salted hash, truncated to what is still missing; new peers are
 * advertised.
 */
export function complete(s: GovernorState, c: Extract<Completion, { kind: 'peerShare' }>, _ctx: Ctx): TraceEvent[] {
  const job = s.peerShareJobs.get(c.jobId);
  const pending = job?.pending;
  const salt = job?.salt ?? 0;
  let reported = 0;
  const received = new Set<Peer>();
  for (const r of c.results) {
    if (!pending?.has(r.peer)) continue; // each asked peer counts once; unknown jobs are ignored
    pending.delete(r.peer);
    reported++;
    if (r.ok) for (const p of r.peers) received.add(p);
  }
  if (pending && (c.final || pending.size === 0)) {
    reported += c.final ? pending.size : 0; // stragglers cancelled at the overall timeout
    s.peerShareJobs.delete(c.jobId);
  }
  s.inProgressPeerShareReqs = Math.max(0, s.inProgressPeerShareReqs - reported);
  const fresh = [...received].filter((p) => !s.known.has(p) && !s.publicRoots.bigLedger.has(p));
  const missing = Math.max(0, s.targets.known - counters(s).known);
  const added = orderBySalt(fresh, salt).slice(0, missing);
  for (const p of added) insertKnown(s, p, { advertise: true, origin: 'peer-share' });
  return [{ type: c.final ? 'PeerShareResults' : 'PeerShareResultsPartial', peers: added, count: reported }];
}

export function aboveTarget(s: GovernorState, ctx: Ctx): Guarded {
  const known = numKnown(s);
  const estNonBlp = s.established.size - blpCounts(s, ctx).established;
  if (known <= s.targets.known || known <= estNonBlp) return skip();
  const numRootPeersCanForget = numberOfRootPeers(s) - s.targets.root;
  const protectPublic = numRootPeersCanForget <= 0;
  const candidates: Peer[] = [];
  for (const p of s.known.keys()) {
    if (s.established.has(p) || s.localRoots.config.has(p) || s.inProgressPromoteCold.has(p)) continue;
    if (s.publicRoots.bigLedger.has(p)) continue;
    if (protectPublic && (s.publicRoots.ledger.has(p) || s.publicRoots.extra.has(p))) continue;
    candidates.push(p);
  }
  if (candidates.length === 0) return skip();
  const excess = known - s.targets.known;
  const n = Math.min(protectPublic ? excess : Math.min(numRootPeersCanForget, excess), candidates.length);
  if (n <= 0) return skip();
  return ready(() => {
    const picked = pickColdToForget(s, candidates, n, ctx.rng);
    for (const p of picked) forget(s, p);
    return { trace: [{ type: 'ForgetColdPeers', peers: picked, count: s.targets.known }], jobs: [] };
  });
}
