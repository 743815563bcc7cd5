/**
 * Root (public) peers below target (the reference's `Governor/RootPeers.hs`, governor.md §2.5).
 * The root target is one-sided: the governor asks for more root peers while below it, and never
 * forgets roots to reach it. Big ledger peers count towards it.
 */
import { requiresBootstrapPeers } from '../bootstrap.js';
import { nextRequestSchedule } from '../policies.js';
import { insertKnown } from '../state.js';
import { type Completion, type GovernorState, numberOfRootPeers, type TraceEvent } from '../types.js';
import { type Ctx, type Guarded, newJobId, ready, skip } from './guarded.js';

export function belowTarget(s: GovernorState, ctx: Ctx): Guarded {
  const maxExtraRootPeers = s.targets.root - numberOfRootPeers(s);
  if (maxExtraRootPeers <= 0 || s.inProgressPublicRootsReq) return skip();
  if (ctx.now < s.publicRootRetryTime) return skip(s.publicRootRetryTime);
  return ready(() => {
    s.inProgressPublicRootsReq = true;
    return {
      trace: [{ type: 'PublicRootsRequest', count: maxExtraRootPeers }],
      // In the sensitive state the shell answers from the configured bootstrap peers (§6.4).
      jobs: [
        {
          kind: 'rootPeers',
          id: newJobId(s),
          count: maxExtraRootPeers,
          ...(requiresBootstrapPeers(s) ? { bootstrap: true as const } : {}),
        },
      ],
    };
  });
}

/** Applies a root-peers result: new = result \ local roots \ existing public roots. */
export function complete(s: GovernorState, c: Extract<Completion, { kind: 'rootPeers' }>, ctx: Ctx): TraceEvent[] {
  s.inProgressPublicRootsReq = false;
  if (!c.ok) {
    ({ backoffs: s.publicRootBackoffs, retryAt: s.publicRootRetryTime } = nextRequestSchedule(
      s.publicRootBackoffs,
      { failed: true },
      ctx.now,
    ));
    return [{ type: 'PublicRootsFailure', detail: c.error, count: s.publicRootBackoffs }];
  }
  const added: string[] = [];
  const sensitive = requiresBootstrapPeers(s);
  for (const r of c.peers) {
    const p = r.peer;
    // A result of a request made before entering (or leaving) the sensitive state must not bring in
    // untrusted peers while sensitive, nor bootstrap peers once caught up.
    if (sensitive !== (r.kind === 'bootstrap')) continue;
    if (s.localRoots.config.has(p) || s.publicRoots.ledger.has(p) || s.publicRoots.extra.has(p)) continue;
    if (s.publicRoots.bigLedger.has(p)) continue;
    if (r.kind === 'ledger') {
      s.publicRoots.ledger.add(p);
      insertKnown(s, p, { origin: 'ledger' });
    } else {
      s.publicRoots.extra.set(p, { advertise: r.advertise, bootstrap: r.kind === 'bootstrap' });
      insertKnown(s, p, { advertise: r.advertise, origin: r.kind });
    }
    added.push(p);
  }
  ({ backoffs: s.publicRootBackoffs, retryAt: s.publicRootRetryTime } = nextRequestSchedule(
    s.publicRootBackoffs,
    { failed: false, added: added.length, ttlMs: c.ttlMs },
    ctx.now,
  ));
  return [{ type: 'PublicRootsResults', peers: added, count: s.publicRootBackoffs }];
}
