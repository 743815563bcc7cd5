/**
 * The node's peer-selection counters from the governor's state, counted as ouroboros-network's
 * `peerSelectionStateToView` counts them (and cardano-diffusion's bootstrap view), so what spo
 * publishes under the node's names means what the node's value means:
 *
 * - "peers" (known/established/active and the moves in progress) leave the big ledger peers out;
 *   big ledger peers are counted apart;
 * - root peers are the local roots and every public root (topology public roots, bootstrap
 *   peers, ledger and big ledger peers); the non-root peers are the other non-big-ledger peers
 *   (learnt by peer sharing, inbound, former local roots after a reconfiguration);
 * - bootstrap peers are the topology's bootstrap peers among the public roots;
 * - a move in progress counts in the group of the peer it moves: cold promotions among the
 *   group's known peers, warm promotions and demotions among its established ones, hot demotions
 *   among its active ones.
 *
 * And the churn's figures as the node publishes them: per churn action, the change of the counter
 * its last step watched (negative for a decrease) and how long its last successful step took.
 * Pure.
 */
import type { ChurnTrace } from '../governor/churn.js';
import { type GovernorState, numberOfRootPeers, type Peer } from '../governor/types.js';
import type { ChurnKey, P2PCounters, PeerGroupCounters } from './counters.js';
import { CHURN_ACTIONS, type ChurnAction } from './node-metric-names.js';

export type PeerSelectionCounterTree = NonNullable<P2PCounters['peerSelection']>;

/** The seven counters of one group: sizes, then the moves in progress. */
function groupCounters(
  s: GovernorState,
  known: (p: Peer) => boolean,
  knownCount: number,
  established: readonly Peer[],
  active: readonly Peer[],
): Required<PeerGroupCounters> {
  let promotingCold = 0;
  for (const p of s.inProgressPromoteCold) if (known(p)) promotingCold++;
  let promotingWarm = 0;
  let demotingWarm = 0;
  for (const p of established) {
    if (s.inProgressPromoteWarm.has(p)) promotingWarm++;
    if (s.inProgressDemoteWarm.has(p)) demotingWarm++;
  }
  let demotingHot = 0;
  for (const p of active) if (s.inProgressDemoteHot.has(p)) demotingHot++;
  return {
    known: knownCount,
    established: established.length,
    active: active.length,
    promotingCold,
    promotingWarm,
    demotingWarm,
    demotingHot,
  };
}

/**
 * Root, all (non big ledger), big ledger, local-root, non-root and bootstrap counters of the
 * governor's state. Linear in the known peers.
 */
export function peerSelectionCounters(s: GovernorState): PeerSelectionCounterTree {
  const big = s.publicRoots.bigLedger;
  const local = s.localRoots.config;
  const isRoot = (p: Peer): boolean =>
    local.has(p) || s.publicRoots.ledger.has(p) || big.has(p) || s.publicRoots.extra.has(p);
  const isBootstrap = (p: Peer): boolean => s.publicRoots.extra.get(p)?.bootstrap === true;

  // established and active peers by group (the sets the node's view intersects)
  const byGroup = (peers: Iterable<Peer>) => {
    const g = { all: [] as Peer[], big: [] as Peer[], local: [] as Peer[], nonRoot: [] as Peer[], boot: [] as Peer[] };
    for (const p of peers) {
      if (big.has(p)) {
        g.big.push(p);
        continue;
      }
      g.all.push(p);
      if (local.has(p)) g.local.push(p);
      if (!isRoot(p)) g.nonRoot.push(p);
      if (isBootstrap(p)) g.boot.push(p);
    }
    return g;
  };
  const est = byGroup(s.established.keys());
  // active ⊆ established; a peer active but not established (never, by the governor's invariant) is not counted
  const act = byGroup([...s.active].filter((p) => s.established.has(p)));

  let knownBig = 0;
  let knownNonRoot = 0;
  for (const p of s.known.keys()) {
    if (big.has(p)) knownBig++;
    else if (!isRoot(p)) knownNonRoot++;
  }
  let knownBoot = 0;
  for (const info of s.publicRoots.extra.values()) if (info.bootstrap) knownBoot++;

  const all = groupCounters(s, (p) => !big.has(p), s.known.size - knownBig, est.all, act.all);
  const bigLedger = groupCounters(s, (p) => big.has(p), knownBig, est.big, act.big);
  const localRoots = groupCounters(s, (p) => local.has(p), local.size, est.local, act.local);
  const nonRoot = groupCounters(
    s,
    (p) => s.known.has(p) && !big.has(p) && !isRoot(p),
    knownNonRoot,
    est.nonRoot,
    act.nonRoot,
  );
  const bootstrap = groupCounters(s, isBootstrap, knownBoot, est.boot, act.boot);
  return {
    // local and public roots are disjoint in the governor's state (as the node asserts)
    root: numberOfRootPeers(s),
    ...all,
    bigLedger,
    // the node publishes these five of the local-root group
    localRoots: {
      known: localRoots.known,
      established: localRoots.established,
      active: localRoots.active,
      promotingWarm: localRoots.promotingWarm,
      demotingHot: localRoots.demotingHot,
    },
    nonRoot,
    bootstrap,
  };
}

const CHURN_ACTION_SET: ReadonlySet<string> = new Set(CHURN_ACTIONS);
const keyOf = (a: ChurnAction): ChurnKey => (a.charAt(0).toLowerCase() + a.slice(1)) as ChurnKey;

/**
 * The churn's published figures, fed with the churn's trace: per action the counter change of its
 * last step (success or timeout; negative for a decrease, as the node's `ChurnCounter` is the
 * counter after minus before) and the seconds its last successful step took (the node publishes
 * the duration of `TraceChurnAction` only, not of a timeout). Bounded: one value per action.
 */
export class ChurnFigures {
  private readonly change = new Map<ChurnKey, number>();
  private readonly durationS = new Map<ChurnKey, number>();

  record(t: Pick<ChurnTrace, 'action' | 'ok' | 'durationMs' | 'change'>): void {
    if (!CHURN_ACTION_SET.has(t.action)) return; // Startup, FullTargets, CycleDone: no metric
    const action = t.action as ChurnAction;
    const key = keyOf(action);
    this.change.set(key, t.change);
    if (t.ok) this.durationS.set(key, t.durationMs / 1000);
  }

  counters(): Pick<PeerSelectionCounterTree, 'churn' | 'churnDurationS'> {
    return { churn: Object.fromEntries(this.change), churnDurationS: Object.fromEntries(this.durationS) };
  }
}
