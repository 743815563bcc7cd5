/**
 * Big ledger peers (the reference's `Governor/BigLedgerPeers.hs`, governor.md §2.5): below target
 * ask the ledger for more (own request/backoff machinery); above target forget cold ones.
 * Big ledger peers have their own known/established/active targets and are never shared.
 */
import { nextRequestSchedule, pickColdToForget } from '../policies.js';
import { forget, insertKnown } from '../state.js';
import type { Completion, GovernorState, TraceEvent } from '../types.js';
import { type Ctx, type Guarded, newJobId, ready, skip } from './guarded.js';

export function belowTarget(s: GovernorState, ctx: Ctx): Guarded {
  const maxExtra = s.targets.knownBigLedger - s.publicRoots.bigLedger.size;
  if (maxExtra <= 0 || s.inProgressBigLedgerPeersReq || !s.progressEnabled) return skip();
  if (ctx.now < s.bigLedgerPeerRetryTime) return skip(s.bigLedgerPeerRetryTime);
  return ready(() => {
    s.inProgressBigLedgerPeersReq = true;
    return {
      trace: [{ type: 'BigLedgerPeersRequest', count: maxExtra }],
      jobs: [{ kind: 'bigLedgerPeers', id: newJobId(s), count: maxExtra }],
    };
  });
}

export function aboveTarget(s: GovernorState, ctx: Ctx): Guarded {
  const blp = s.publicRoots.bigLedger;
  const numKnown = blp.size;
  if (numKnown <= s.targets.knownBigLedger) return skip();
  const candidates: string[] = [];
  for (const p of blp) if (!s.established.has(p) && !s.inProgressPromoteCold.has(p)) candidates.push(p);
  if (candidates.length === 0) return skip();
  const n = Math.min(numKnown - s.targets.knownBigLedger, candidates.length);
  return ready(() => {
    const picked = pickColdToForget(s, candidates, n, ctx.rng);
    for (const p of picked) forget(s, p);
    return { trace: [{ type: 'ForgetBigLedgerPeers', peers: picked, count: s.targets.knownBigLedger }], jobs: [] };
  });
}

/** New big ledger peers (minus local and public roots) become known, not advertised. */
export function complete(s: GovernorState, c: Extract<Completion, { kind: 'bigLedgerPeers' }>, ctx: Ctx): TraceEvent[] {
  s.inProgressBigLedgerPeersReq = false;
  if (!c.ok) {
    ({ backoffs: s.bigLedgerPeerBackoffs, retryAt: s.bigLedgerPeerRetryTime } = nextRequestSchedule(
      s.bigLedgerPeerBackoffs,
      { failed: true },
      ctx.now,
    ));
    return [{ type: 'BigLedgerPeersFailure', detail: c.error, count: s.bigLedgerPeerBackoffs }];
  }
  const added: string[] = [];
  for (const p of c.peers) {
    if (s.localRoots.config.has(p) || s.publicRoots.ledger.has(p) || s.publicRoots.extra.has(p)) continue;
    if (s.publicRoots.bigLedger.has(p)) continue;
    s.publicRoots.bigLedger.add(p);
    insertKnown(s, p, { advertise: false, origin: 'big-ledger' });
    added.push(p);
  }
  ({ backoffs: s.bigLedgerPeerBackoffs, retryAt: s.bigLedgerPeerRetryTime } = nextRequestSchedule(
    s.bigLedgerPeerBackoffs,
    { failed: false, added: added.length, ttlMs: c.ttlMs },
    ctx.now,
  ));
  return [{ type: 'BigLedgerPeersResults', peers: added, count: s.bigLedgerPeerBackoffs }];
}
