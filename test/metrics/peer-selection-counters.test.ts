/**
 * The node's peer-selection counters from a known governor state, counted as ouroboros-network's
 * view counts them (non-root and bootstrap groups, moves in progress per group, big ledger peers
 * apart), the churn's figures as the node publishes them (the last step's signed counter change,
 * the last successful step's duration), and both published under the node's names of both
 * generations and read back from the scraped page.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { insertKnown } from '../../src/governor/state.js';
import { counters as governorCounters, initialState, normaliseLocalRoots } from '../../src/governor/types.js';
import { ChurnFigures, peerSelectionCounters } from '../../src/metrics/peer-selection-counters.js';
import { parsePrometheusText, unlabelledValue } from '../../src/metrics/prometheus-text.js';
import { NodeMetricsPublisher } from '../../src/metrics/publish.js';

type Temp = 'cold' | 'warm' | 'hot';
type Move = 'promotingCold' | 'promotingWarm' | 'demotingWarm' | 'demotingHot';

/**
 * Local roots L1-L3, topology public root P1, bootstrap peers B1-B2, ledger peer G1, big ledger
 * peers X1-X3, peers learnt by peer sharing N1-N4; each with a temperature and a move in progress.
 */
function knownState() {
  const s = initialState(0);
  const peers: Array<[string, 'local' | 'public' | 'bootstrap' | 'ledger' | 'big' | 'shared', Temp, Move?]> = [
    ['10.0.0.1:1', 'local', 'hot'],
    ['10.0.0.2:1', 'local', 'warm', 'promotingWarm'],
    ['10.0.0.3:1', 'local', 'cold'],
    ['10.0.1.1:1', 'public', 'warm'],
    ['10.0.2.1:1', 'bootstrap', 'hot', 'demotingHot'],
    ['10.0.2.2:1', 'bootstrap', 'cold', 'promotingCold'],
    ['10.0.3.1:1', 'ledger', 'warm', 'demotingWarm'],
    ['10.0.4.1:1', 'big', 'hot', 'demotingHot'],
    ['10.0.4.2:1', 'big', 'warm', 'promotingWarm'],
    ['10.0.4.3:1', 'big', 'cold', 'promotingCold'],
    ['10.0.5.1:1', 'shared', 'hot'],
    ['10.0.5.2:1', 'shared', 'warm', 'demotingWarm'],
    ['10.0.5.3:1', 'shared', 'cold', 'promotingCold'],
    ['10.0.5.4:1', 'shared', 'cold'],
  ];
  s.localRoots = normaliseLocalRoots([
    { hotValency: 2, peers: peers.filter(([, k]) => k === 'local').map(([peer]) => ({ peer })) },
  ]);
  for (const [peer, kind, temp, move] of peers) {
    insertKnown(s, peer, {
      origin:
        kind === 'local'
          ? 'local-root'
          : kind === 'public'
            ? 'public-root'
            : kind === 'big'
              ? 'big-ledger'
              : kind === 'shared'
                ? 'peer-share'
                : kind,
    });
    if (kind === 'public' || kind === 'bootstrap')
      s.publicRoots.extra.set(peer, { advertise: false, bootstrap: kind === 'bootstrap' });
    if (kind === 'ledger') s.publicRoots.ledger.add(peer);
    if (kind === 'big') s.publicRoots.bigLedger.add(peer);
    if (temp !== 'cold') s.established.set(peer, { sharing: false, since: 0 });
    if (temp === 'hot') s.active.add(peer);
    if (move === 'promotingCold') s.inProgressPromoteCold.add(peer);
    if (move === 'promotingWarm') s.inProgressPromoteWarm.add(peer);
    if (move === 'demotingWarm') s.inProgressDemoteWarm.add(peer);
    if (move === 'demotingHot') s.inProgressDemoteHot.add(peer);
  }
  return s;
}

describe('peerSelectionCounters', () => {
  it('counts every group of a known state as the node does', () => {
    const s = knownState();
    const c = peerSelectionCounters(s);
    expect(c).toEqual({
      root: 10,
      // every peer but the big ledger ones; their moves in progress too
      known: 11,
      established: 7,
      active: 3,
      promotingCold: 2,
      promotingWarm: 1,
      demotingWarm: 2,
      demotingHot: 1,
      bigLedger: {
        known: 3,
        established: 2,
        active: 1,
        promotingCold: 1,
        promotingWarm: 1,
        demotingWarm: 0,
        demotingHot: 1,
      },
      localRoots: { known: 3, established: 2, active: 1, promotingWarm: 1, demotingHot: 0 },
      // learnt by peer sharing: neither local nor public roots
      nonRoot: {
        known: 4,
        established: 2,
        active: 1,
        promotingCold: 1,
        promotingWarm: 0,
        demotingWarm: 1,
        demotingHot: 0,
      },
      bootstrap: {
        known: 2,
        established: 1,
        active: 1,
        promotingCold: 1,
        promotingWarm: 0,
        demotingWarm: 0,
        demotingHot: 1,
      },
    });
    // the sizes are the ones the governor's churn and targets see
    const g = governorCounters(s);
    expect([c.root, c.known, c.established, c.active]).toEqual([g.root, g.known, g.established, g.active]);
    expect([c.bigLedger?.known, c.bigLedger?.established, c.bigLedger?.active]).toEqual([
      g.knownBigLedger,
      g.establishedBigLedger,
      g.activeBigLedger,
    ]);
  });

  it('a former local root (after a reconfiguration) counts as a non-root peer', () => {
    const s = knownState();
    s.localRoots = normaliseLocalRoots([{ hotValency: 1, peers: [{ peer: '10.0.0.1:1' }] }]);
    const c = peerSelectionCounters(s);
    expect(c.localRoots).toMatchObject({ known: 1, established: 1, active: 1 });
    // 10.0.0.2 (warm, being promoted) and 10.0.0.3 (cold) join the non-root group
    expect(c.nonRoot).toMatchObject({ known: 6, established: 3, active: 1, promotingWarm: 1 });
    expect(c.root).toBe(8);
  });
});

describe('ChurnFigures', () => {
  it("keeps per action the last step's signed counter change and the last successful step's duration", () => {
    const f = new ChurnFigures();
    expect(f.counters()).toEqual({ churn: {}, churnDurationS: {} });
    f.record({ action: 'Startup', ok: true, durationMs: 0, change: 0 });
    f.record({ action: 'DecreasedActivePeers', ok: true, durationMs: 1_500, change: -4 });
    f.record({ action: 'IncreasedActivePeers', ok: true, durationMs: 250, change: 4 });
    f.record({ action: 'IncreasedKnownPeers', ok: false, durationMs: 80_000, change: 3 });
    f.record({ action: 'CycleDone', ok: true, durationMs: 90_000, change: 0 });
    expect(f.counters()).toEqual({
      churn: { decreasedActivePeers: -4, increasedActivePeers: 4, increasedKnownPeers: 3 },
      // a timed-out step has no duration metric (the node publishes TraceChurnAction's only)
      churnDurationS: { decreasedActivePeers: 1.5, increasedActivePeers: 0.25 },
    });
    // the next cycle's step replaces the value; a timeout keeps the last successful duration
    f.record({ action: 'DecreasedActivePeers', ok: false, durationMs: 300_000, change: -1 });
    expect(f.counters().churn?.decreasedActivePeers).toBe(-1);
    // a decrease step that timed out while the counter went up (a peer learnt meanwhile) publishes +1
    f.record({ action: 'DecreasedKnownPeers', ok: false, durationMs: 60_000, change: 1 });
    expect(f.counters().churn?.decreasedKnownPeers).toBe(1);
    expect(f.counters().churnDurationS?.decreasedActivePeers).toBe(1.5);
  });
});

describe('published under the node names', () => {
  it('the non-root, bootstrap and churn figures of a known state, in both generations', async () => {
    const figures = new ChurnFigures();
    figures.record({ action: 'DecreasedActivePeers', ok: true, durationMs: 1_500, change: -4 });
    const registry = new Registry();
    new NodeMetricsPublisher(registry, { names: 'both' }).update({
      peerSelection: { ...peerSelectionCounters(knownState()), ...figures.counters() },
    });
    const page = parsePrometheusText(await registry.metrics());
    const v = (name: string) => unlabelledValue(page, `cardano_node_metrics_peerSelection_${name}`);
    for (const [name, value] of [
      ['KnownNonRootPeers', 4],
      ['EstablishedNonRootPeers', 2],
      ['ActiveNonRootPeers', 1],
      ['ColdNonRootPeersPromotions', 1],
      ['WarmNonRootPeersDemotions', 1],
      ['KnownBootstrapPeers', 2],
      ['EstablishedBootstrapPeers', 1],
      ['ActiveBootstrapPeers', 1],
      ['ColdBootstrapPeersPromotions', 1],
      ['ActiveBootstrapPeersDemotions', 1],
      ['ColdBigLedgerPeersPromotions', 1],
      ['WarmBigLedgerPeersPromotions', 1],
      ['ActiveBigLedgerPeersDemotions', 1],
      ['WarmLocalRootPeersPromotions', 1],
      ['churn_DecreasedActivePeers', -4],
    ] as const) {
      expect(v(`${name}_int`), `${name} (new)`).toBe(value);
      expect(v(name), `${name} (legacy)`).toBe(value);
    }
    // the duration: the new system writes no separator after "churn", the legacy one does
    expect(v('churnDecreasedActivePeers_duration_real')).toBe(1.5);
    expect(v('churn_DecreasedActivePeers_duration')).toBe(1.5);
    // an action that has not run is absent, not 0
    expect(v('churn_IncreasedKnownPeers_int')).toBeUndefined();
    expect(v('churnIncreasedKnownPeers_duration_real')).toBeUndefined();
  });
});
