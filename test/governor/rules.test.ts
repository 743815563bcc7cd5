/**
 * One rule at a time, on hand-built states (governor.md §2.5-2.7), including the subtle cases of
 * §2.10 and §14.3: completions after racing demotions, cooling peers, big ledger peers counting
 * towards the root target but not the known target, forgetting on the 6th failure.
 */
import { describe, expect, it } from 'vitest';
import { CHURN_STEPS, churnStep, decrease, decreaseWithMin, initialChurnState } from '../../src/governor/churn.js';
import { step } from '../../src/governor/governor.js';
import { checkInvariants } from '../../src/governor/invariants.js';
import { addHeaderMetric, emptyMetrics, upstreamyness } from '../../src/governor/peer-metrics.js';
import {
  answerPeerShare,
  connectFailureDelay,
  DEFAULT_POLICY,
  peerShareAmount,
  stickySalt,
} from '../../src/governor/policies.js';
import { createRng } from '../../src/governor/rng.js';
import {
  failCountAt,
  forget,
  insertEstablished,
  insertKnown,
  SAMPLING_THRESHOLD,
  sampleKnown,
} from '../../src/governor/state.js';
import {
  type Completion,
  clampLocalRoots,
  counters,
  type GovernorState,
  type Input,
  initialState,
  type Job,
  normaliseLocalRoots,
  numberOfRootPeers,
  saneTargets,
  type Targets,
} from '../../src/governor/types.js';
import { SimulatedNode } from '../../src/sim/simulated-node.js';

const T: Targets = {
  root: 2,
  known: 10,
  established: 3,
  active: 1,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
};
const rng = () => createRng(42);
const done = (completion: Completion): Input => ({ kind: 'completion', completion });

/** A state with targets installed and the given cold ledger peers known. */
function base(targets: Targets = T, ledger: string[] = []): GovernorState {
  let s = step(initialState(0), [{ kind: 'targets', targets }], 0, rng()).state;
  s = { ...s, inProgressPublicRootsReq: false, publicRootRetryTime: 1e9, bigLedgerPeerRetryTime: 1e9 };
  for (const p of ledger) {
    s.publicRoots.ledger.add(p);
    insertKnown(s, p, { origin: 'ledger' });
  }
  return s;
}

function jobsOf(jobs: Job[], kind: Job['kind']): Job[] {
  return jobs.filter((j) => j.kind === kind);
}

describe('targets and local roots', () => {
  it('sanity rules', () => {
    expect(saneTargets(T)).toBe(true);
    expect(saneTargets({ ...T, active: 4 })).toBe(false); // active > established
    expect(saneTargets({ ...T, root: 11 })).toBe(false); // root > known
    expect(saneTargets({ ...T, known: 10001, established: 3 })).toBe(false);
    expect(saneTargets({ ...T, activeBigLedger: 1 })).toBe(false); // active BLP > established BLP
  });

  it('insane and all-zero targets are ignored; sane ones installed', () => {
    const s0 = initialState(0);
    expect(step(s0, [{ kind: 'targets', targets: { ...T, active: 9 } }], 0, rng()).state.targets.known).toBe(0);
    const z = {
      root: 0,
      known: 0,
      established: 0,
      active: 0,
      knownBigLedger: 0,
      establishedBigLedger: 0,
      activeBigLedger: 0,
    };
    expect(step(s0, [{ kind: 'targets', targets: z }], 0, rng()).decisions).toEqual([]);
    const r = step(s0, [{ kind: 'targets', targets: T }], 0, rng());
    expect(r.state.targets).toEqual(T);
    expect(r.decisions[0]?.trace[0]?.type).toBe('TargetsChanged');
  });

  it('normalises groups (fromGroups) and clamps to the known target (clampToLimit)', () => {
    const roots = normaliseLocalRoots([
      { hotValency: 5, warmValency: 9, peers: [{ peer: 'a' }, { peer: 'b' }, { peer: 'c' }] },
      { hotValency: 1, peers: [{ peer: 'a' }, { peer: 'd' }] }, // a already in group 1
      { hotValency: 0, peers: [{ peer: 'e' }] }, // no hot valency: dropped
    ]);
    expect(roots.groups).toEqual([
      { hotValency: 3, warmValency: 3, members: ['a', 'b', 'c'] },
      { hotValency: 1, warmValency: 1, members: ['d'] },
    ]);
    const clamped = clampLocalRoots(roots, 2);
    expect(clamped.groups).toEqual([{ hotValency: 2, warmValency: 2, members: ['a', 'b'] }]);
    expect([...clamped.config.keys()]).toEqual(['a', 'b']);
  });

  it('local roots are installed after targets, become known, leave public roots, and are dialled first', () => {
    const s = base(T, ['a', 'x']);
    const r = step(
      s,
      [
        {
          kind: 'localRoots',
          groups: [
            { hotValency: 1, warmValency: 2, peers: [{ peer: 'a', config: { advertise: true } }, { peer: 'b' }] },
          ],
        },
      ],
      1000,
      rng(),
    );
    expect(r.state.localRoots.config.has('a')).toBe(true);
    expect(r.state.publicRoots.ledger.has('a')).toBe(false);
    expect(r.state.known.get('a')?.advertise).toBe(true); // a new local root gets its configured flag
    expect(r.state.known.get('b')?.origin).toBe('local-root');
    const types = r.decisions.flatMap((d) => d.trace.map((t) => t.type));
    expect(types.indexOf('PromoteColdLocalPeers')).toBeLessThan(types.indexOf('PromoteColdPeers'));
    expect(checkInvariants(r.state)).toEqual([]);
  });

  it('a removed hot local root stays known, loses root status and is demoted to warm', () => {
    let s = base(T);
    s = step(s, [{ kind: 'localRoots', groups: [{ hotValency: 1, peers: [{ peer: 'a' }] }] }], 0, rng()).state;
    insertEstablished(s, 'a', false, DEFAULT_POLICY);
    s.active.add('a');
    s.inProgressPromoteCold.clear();
    const r = step(s, [{ kind: 'localRoots', groups: [] }], 1000, rng());
    expect(r.state.known.has('a')).toBe(true);
    expect(r.state.localRoots.config.has('a')).toBe(false);
    expect(jobsOf(r.jobs, 'deactivate')).toMatchObject([{ peer: 'a' }]);
  });
});

describe('root peers and big ledger peers', () => {
  it('requests the missing root peers, then backs off 2^n s when nothing new comes', () => {
    const s = { ...base({ ...T, root: 3 }), publicRootRetryTime: 0 };
    const r1 = step(s, [], 0, rng());
    const req = jobsOf(r1.jobs, 'rootPeers')[0];
    expect(req).toMatchObject({ kind: 'rootPeers', count: 3 });
    expect(step(r1.state, [], 0, rng()).jobs).toEqual([]); // one request in flight at a time
    const r2 = step(
      r1.state,
      [done({ kind: 'rootPeers', jobId: req?.id ?? 0, ok: true, peers: [], ttlMs: 5000 })],
      1000,
      rng(),
    );
    expect(r2.state.publicRootBackoffs).toBe(1);
    expect(r2.state.publicRootRetryTime).toBe(3000);
    expect(r2.wakeupAt).toBeLessThanOrEqual(3000);
    const r3 = step(r2.state, [], 3000, rng());
    const req2 = jobsOf(r3.jobs, 'rootPeers')[0];
    const r4 = step(
      r3.state,
      [done({ kind: 'rootPeers', jobId: req2?.id ?? 0, ok: false, error: 'DNS_TIMEOUT' })],
      4000,
      rng(),
    );
    expect(r4.state.publicRootBackoffs).toBe(-1);
    expect(r4.state.publicRootRetryTime).toBe(6000);
  });

  it('new root peers exclude local roots and existing roots; success retries after the TTL', () => {
    let s = { ...base({ ...T, root: 3 }, ['l1']), publicRootRetryTime: 0 };
    s = step(s, [{ kind: 'localRoots', groups: [{ hotValency: 1, peers: [{ peer: 'loc' }] }] }], 0, rng()).state;
    const id = s.nextJobId - 1;
    const r = step(
      s,
      [
        done({
          kind: 'rootPeers',
          jobId: id,
          ok: true,
          ttlMs: 5000,
          peers: [
            { peer: 'loc', kind: 'ledger', advertise: false },
            { peer: 'l1', kind: 'ledger', advertise: false },
            { peer: 'pr', kind: 'public-root', advertise: true },
          ],
        }),
      ],
      1000,
      rng(),
    );
    expect([...r.state.publicRoots.extra.keys()]).toEqual(['pr']);
    expect(r.state.publicRoots.ledger.has('loc')).toBe(false);
    expect(r.state.known.get('pr')?.advertise).toBe(true);
    expect(r.state.publicRootRetryTime).toBe(6000);
  });

  it('big ledger peers count towards the root target but not the known target (§14.3.4)', () => {
    const s = base({ ...T, knownBigLedger: 2, establishedBigLedger: 1, activeBigLedger: 1 });
    for (const p of ['b1', 'b2']) {
      s.publicRoots.bigLedger.add(p);
      insertKnown(s, p, { origin: 'big-ledger' });
    }
    insertKnown(s, 'x', { origin: 'peer-share' });
    expect(counters(s)).toMatchObject({ known: 1, knownBigLedger: 2, root: 2 });
    expect(numberOfRootPeers(s)).toBe(2);
    // root target 2 is met by big ledger peers alone: no root-peers request
    const r = step({ ...s, publicRootRetryTime: 0 }, [], 0, rng());
    expect(jobsOf(r.jobs, 'rootPeers')).toEqual([]);
    // and big ledger peers are promoted against their own targets
    expect(jobsOf(r.jobs, 'connect').filter((j) => 'peer' in j && j.peer.startsWith('b')).length).toBe(1);
  });

  it('forgets cold big ledger peers above their known target', () => {
    const s = base({ ...T, knownBigLedger: 1, establishedBigLedger: 0, activeBigLedger: 0 });
    for (const p of ['b1', 'b2', 'b3']) {
      s.publicRoots.bigLedger.add(p);
      insertKnown(s, p, { origin: 'big-ledger' });
    }
    const r = step(s, [], 0, rng());
    expect(r.state.publicRoots.bigLedger.size).toBe(1);
    expect(r.state.known.size).toBe(1);
  });
});

describe('known peers', () => {
  it('forgets cold peers above target, never local roots, public roots only beyond the root target', () => {
    let s = base({ ...T, known: 3, root: 2, established: 0, active: 0 }, ['l1', 'l2']);
    s = step(s, [{ kind: 'localRoots', groups: [{ hotValency: 1, peers: [{ peer: 'loc' }] }] }], 0, rng()).state;
    for (const p of ['s1', 's2', 's3']) insertKnown(s, p, { origin: 'peer-share' });
    // 6 known, target 3; roots 3 > root target 2: one public root may go as well
    const r = step(s, [], 1000, rng());
    const st = r.state;
    expect(st.known.size).toBe(3);
    expect(st.known.has('loc')).toBe(true);
    expect(st.publicRoots.ledger.size).toBeGreaterThanOrEqual(1);
  });

  it('asks at most 2 established peers, amount clamp(objective / n, 8, 255), next ask after 900 s', () => {
    const s = base({ ...T, known: 100, established: 0, active: 0 });
    for (const p of ['a', 'b', 'c']) {
      insertKnown(s, p, { origin: 'ledger' });
      insertEstablished(s, p, true, DEFAULT_POLICY);
      s.availableForShare.add(p);
      s.nextShare.delete(p);
    }
    const r = step(s, [], 0, rng());
    const job = jobsOf(r.jobs, 'peerShare')[0];
    expect(job).toMatchObject({ kind: 'peerShare', amount: peerShareAmount(97, 2) });
    expect(job && 'peers' in job ? job.peers.length : 0).toBe(2);
    expect(r.state.inProgressPeerShareReqs).toBe(2);
    for (const p of job && 'peers' in job ? job.peers : []) expect(r.state.nextShare.get(p)).toBe(900_000);
    expect(peerShareAmount(5, 2)).toBe(8);
    expect(peerShareAmount(10000, 2)).toBe(255);
    // results: known and big ledger peers dropped; the counter goes back to 0
    r.state.publicRoots.bigLedger.add('big');
    insertKnown(r.state, 'big', { origin: 'big-ledger' });
    const peers = job && 'peers' in job ? job.peers : [];
    const r2 = step(
      r.state,
      [
        done({
          kind: 'peerShare',
          jobId: job?.id ?? 0,
          final: true,
          results: peers.map((p) => ({ peer: p, ok: true, peers: ['a', 'big', 'new1', 'new2'] })),
        }),
      ],
      2000,
      rng(),
    );
    // both answered; the third established peer is asked at once (still below target)
    expect(r2.decisions[0]?.trace[0]).toMatchObject({ type: 'PeerShareResults', count: 2 });
    expect(r2.state.inProgressPeerShareReqs).toBe(1);
    expect(r2.state.known.get('new1')).toMatchObject({ advertise: true, origin: 'peer-share' });
    // 'big' was filtered out of the results (big ledger), then forgotten (BLP target 0): never re-learnt
    expect(r2.state.known.has('big')).toBe(false);
  });

  it('peer-share answers: at most 10, sticky for 823 s', () => {
    const cands = Array.from({ length: 50 }, (_, i) => `10.0.0.${i}:3001`);
    const a = answerPeerShare(cands, 100, stickySalt(10_000, 7));
    expect(a.length).toBe(10);
    expect(answerPeerShare(cands, 100, stickySalt(800_000, 7))).toEqual(a);
    expect(answerPeerShare(cands, 100, stickySalt(10_000 + 823_000, 7))).not.toEqual(a);
    expect(answerPeerShare(cands, 3, stickySalt(10_000, 7))).toEqual(a.slice(0, 3));
  });
});

describe('established peers', () => {
  it('promotes at most target − established − in flight (no duplicate decision)', () => {
    const s = base(T, ['a', 'b', 'c', 'd', 'e']);
    const r = step(s, [], 0, rng());
    expect(jobsOf(r.jobs, 'connect').length).toBe(3);
    expect(step(r.state, [], 0, rng()).jobs).toEqual([]);
  });

  it('connection failures back off 5·2^(n−1) s ± 2 and the 6th consecutive failure forgets', () => {
    let s = base({ ...T, established: 1, active: 0 }, ['a']);
    let now = 0;
    for (let n = 1; n <= 6; n++) {
      const r = step(s, [], now, rng());
      const job = jobsOf(r.jobs, 'connect')[0];
      expect(job).toBeDefined();
      const r2 = step(
        r.state,
        [done({ kind: 'connect', jobId: job?.id ?? 0, peer: 'a', ok: false, error: 'x' })],
        now + 1000,
        rng(),
      );
      s = r2.state;
      if (n < 6) {
        expect(s.known.get('a')?.failCount).toBe(n);
        const wait = (s.nextConnect.get('a') ?? 0) - (now + 1000);
        const nominal = 5000 * 2 ** Math.min(n - 1, 5);
        expect(wait).toBeGreaterThanOrEqual(nominal - 2000);
        expect(wait).toBeLessThanOrEqual(nominal + 2000);
        now = s.nextConnect.get('a') ?? now;
      } else {
        expect(s.known.has('a')).toBe(false);
        expect(s.publicRoots.ledger.has('a')).toBe(false);
      }
    }
    for (let n = 1; n <= 6; n++) {
      const d = connectFailureDelay(n, createRng(n));
      expect(Math.abs(d - 5000 * 2 ** Math.min(n - 1, 5))).toBeLessThanOrEqual(2000);
    }
  });

  it('local roots and configured public roots are never forgotten', () => {
    let s = base({ ...T, established: 1, active: 0 });
    s.publicRoots.extra.set('pr', { advertise: false, bootstrap: false });
    insertKnown(s, 'pr', { origin: 'public-root' });
    s.known.set('pr', { ...(s.known.get('pr') as NonNullable<ReturnType<typeof s.known.get>>), failCount: 5 });
    s.inProgressPromoteCold.add('pr');
    s = step(s, [done({ kind: 'connect', jobId: 1, peer: 'pr', ok: false, error: 'x' })], 0, rng()).state;
    expect(s.known.get('pr')?.failCount).toBe(6);
  });

  it('success records the remote sharing flag, clears tepid and does not reset the fail count', () => {
    const s = base({ ...T, established: 1, active: 0 }, ['a']);
    s.known.set('a', {
      ...(s.known.get('a') as NonNullable<ReturnType<typeof s.known.get>>),
      failCount: 2,
      tepid: true,
    });
    const r = step(s, [], 0, rng());
    const job = jobsOf(r.jobs, 'connect')[0];
    const r2 = step(
      r.state,
      [done({ kind: 'connect', jobId: job?.id ?? 0, peer: 'a', ok: true, sharing: true })],
      1000,
      rng(),
    );
    expect(r2.state.known.get('a')).toMatchObject({
      failCount: 2,
      tepid: false,
      sharing: true,
      successfulConnection: true,
    });
    expect(r2.state.nextShare.get('a')).toBe(301_000); // peer-share activation delay
  });

  it('warm demotion closes the connection and keeps the peer established until it is cold', () => {
    const s = base({ ...T, established: 1, active: 0 }, ['a', 'b']);
    for (const p of ['a', 'b']) insertEstablished(s, p, false, DEFAULT_POLICY);
    const r = step(s, [], 0, rng());
    const close = jobsOf(r.jobs, 'close')[0];
    expect(close).toBeDefined();
    const peer = close && 'peer' in close ? close.peer : '';
    // the connection manager holds the connection in time-wait: status cooling, no async demotion
    const r1 = step(r.state, [{ kind: 'peerStatus', peer, status: 'cooling' }], 1000, rng());
    expect(r1.state.established.has(peer)).toBe(true);
    expect(r1.state.inProgressDemoteToCold.has(peer)).toBe(false);
    const r2 = step(
      r1.state,
      [
        { kind: 'peerStatus', peer, status: 'cold' },
        done({ kind: 'close', jobId: close?.id ?? 0, peer, becameCold: true }),
      ],
      61_000,
      rng(),
    );
    expect(r2.state.established.has(peer)).toBe(false);
    expect(r2.state.known.get(peer)?.failCount).toBe(0);
    expect(checkInvariants(r2.state)).toEqual([]);
  });
});

describe('active peers and asynchronous demotions', () => {
  function warm(peers: string[], targets: Targets = T): GovernorState {
    const s = base(targets, peers);
    for (const p of peers) {
      insertEstablished(s, p, false, DEFAULT_POLICY);
      s.connStatus.set(p, { status: 'warm' });
    }
    return s;
  }

  it('activation success arms the fail-count reset 120 s later', () => {
    const s = warm(['a', 'b', 'c']);
    s.known.set('a', { ...(s.known.get('a') as NonNullable<ReturnType<typeof s.known.get>>), failCount: 3 });
    s.inProgressPromoteWarm.add('a');
    // the shell reports the connection's new status with the completion
    const r = step(
      s,
      [{ kind: 'peerStatus', peer: 'a', status: 'hot' }, done({ kind: 'activate', jobId: 9, peer: 'a', ok: true })],
      10_000,
      rng(),
    );
    expect(r.state.active.has('a')).toBe(true);
    expect(r.state.clearFailCount.get('a')).toBe(130_000);
    expect(step(r.state, [], 129_000, rng()).state.known.get('a')?.failCount).toBe(3);
    expect(step(r.state, [], 130_000, rng()).state.known.get('a')?.failCount).toBe(0);
    // Nothing waits on the reset: it is not a wake-up (the next step applies it), and observers
    // between steps read the count as of now.
    expect(r.wakeupAt).not.toBe(130_000);
    expect(failCountAt(r.state, 'a', 129_999)).toBe(3);
    expect(failCountAt(r.state, 'a', 130_000)).toBe(0);
    expect(r.state.known.get('a')?.failCount).toBe(3);
  });

  it('a completion after a racing demotion is aborted (§2.10): cooling first, then success', () => {
    const s = warm(['a', 'b', 'c'], { ...T, active: 1 });
    const r = step(s, [], 0, rng());
    const job = jobsOf(r.jobs, 'activate')[0];
    const peer = job && 'peer' in job ? job.peer : '';
    const r1 = step(r.state, [{ kind: 'peerStatus', peer, status: 'cooling' }], 1000, rng());
    expect(r1.state.inProgressDemoteToCold.has(peer)).toBe(true);
    expect(r1.state.inProgressPromoteWarm.has(peer)).toBe(false);
    const r2 = step(r1.state, [done({ kind: 'activate', jobId: job?.id ?? 0, peer, ok: true })], 2000, rng());
    expect(r2.state.active.has(peer)).toBe(false);
    expect(r2.decisions.flatMap((d) => d.trace.map((t) => t.type))).toContain('PromoteWarmAborted');
    expect(checkInvariants(r2.state)).toEqual([]);
    // cooling peers are neither promoted nor demoted until cold; cold counts as a failure
    const r3 = step(r2.state, [{ kind: 'peerStatus', peer, status: 'cold', repromoteDelayMs: 10_000 }], 3000, rng());
    expect(r3.state.established.has(peer)).toBe(false);
    expect(r3.state.known.get(peer)?.failCount).toBe(1);
    const wait = (r3.state.nextConnect.get(peer) ?? 0) - 3000;
    expect(wait).toBeGreaterThan(10_100 - 1e-6);
    expect(wait).toBeLessThan(14_000);
  });

  it('a failed activation after the 1 s pause drops the peer and backs off 10 s ± 2', () => {
    const s = warm(['a']);
    s.inProgressPromoteWarm.add('a');
    const r = step(s, [done({ kind: 'activate', jobId: 1, peer: 'a', ok: false, error: 'x' })], 5000, rng());
    expect(r.state.established.has('a')).toBe(false);
    const wait = (r.state.nextConnect.get('a') ?? 0) - 5000;
    expect(wait).toBeGreaterThanOrEqual(8000);
    expect(wait).toBeLessThanOrEqual(12_000);
  });

  it('an asynchronous return to warm delays reactivation by repromote delay + U(0.1, 10)', () => {
    const s = warm(['a']);
    s.active.add('a');
    s.connStatus.set('a', { status: 'hot' });
    const r = step(s, [{ kind: 'peerStatus', peer: 'a', status: 'warm', repromoteDelayMs: 120_000 }], 50_000, rng());
    expect(r.state.active.has('a')).toBe(false);
    const at = r.state.nextActivate.get('a') ?? 0;
    expect(at - 50_000).toBeGreaterThan(120_100 - 1e-6);
    expect(at - 50_000).toBeLessThan(130_000);
    expect(jobsOf(r.jobs, 'activate')).toEqual([]); // not ready yet
  });

  it('hot demotion picks the lowest upstreamness; local roots are kept for the general target', () => {
    let s = warm(['a', 'b', 'c', 'd'], { ...T, active: 1, established: 4 });
    s = step(s, [{ kind: 'localRoots', groups: [{ hotValency: 1, peers: [{ peer: 'd' }] }] }], 0, rng()).state;
    for (const p of ['a', 'b', 'c', 'd']) {
      s.active.add(p);
      s.connStatus.set(p, { status: 'hot' });
    }
    s.inProgressPromoteWarm.clear();
    s.inProgressPromoteCold.clear();
    const metrics = {
      score: new Map([
        ['a', 5],
        ['b', 1],
        ['c', 9],
      ]),
      joined: new Map([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]),
    };
    const r = step(s, [], 1000, rng(), { metrics });
    const demoted = jobsOf(r.jobs, 'deactivate').map((j) => ('peer' in j ? j.peer : ''));
    // active non-BLP = 4 (local root d included), target 1: 3 to demote, but only a, b, c qualify
    expect(demoted.sort()).toEqual(['a', 'b', 'c']);
    const r2 = step(s, [], 1000, rng(), {
      metrics: {
        ...metrics,
        score: new Map([
          ['a', 5],
          ['b', 1],
          ['c', 9],
        ]),
      },
    });
    expect(r2.state.inProgressDemoteHot.has('d')).toBe(false);
  });

  it('deactivation success sets tepid; a local-root group above its hot valency is demoted', () => {
    let s = warm(['a', 'b'], { ...T, active: 3, established: 3 });
    s = step(
      s,
      [{ kind: 'localRoots', groups: [{ hotValency: 1, peers: [{ peer: 'a' }, { peer: 'b' }] }] }],
      0,
      rng(),
    ).state;
    for (const p of ['a', 'b']) {
      s.active.add(p);
      s.connStatus.set(p, { status: 'hot' });
    }
    s.inProgressPromoteWarm.clear();
    const r = step(s, [], 1000, rng());
    const job = jobsOf(r.jobs, 'deactivate')[0];
    expect(job).toBeDefined();
    const peer = job && 'peer' in job ? job.peer : '';
    const r2 = step(
      r.state,
      [{ kind: 'peerStatus', peer, status: 'warm' }, done({ kind: 'deactivate', jobId: job?.id ?? 0, peer, ok: true })],
      2000,
      rng(),
    );
    expect(r2.state.active.has(peer)).toBe(false);
    expect(r2.state.known.get(peer)?.tepid).toBe(true);
  });
});

describe('sampling among many known peers', () => {
  it('draws distinct accepted peers above the threshold, and falls back when candidates are sparse', () => {
    const s = base(T);
    for (let i = 0; i < SAMPLING_THRESHOLD + 100; i++) insertKnown(s, `p${i}`, { origin: 'ledger' });
    const got = sampleKnown(s, 5, createRng(1), (p) => Number(p.slice(1)) % 2 === 0);
    expect(got?.length).toBe(5);
    expect(new Set(got).size).toBe(5);
    for (const p of got ?? []) expect(Number(p.slice(1)) % 2).toBe(0);
    expect(sampleKnown(s, 1, createRng(1), (p) => p === 'p7')).toBeUndefined();
    const small = base(T);
    insertKnown(small, 'a', { origin: 'ledger' });
    expect(sampleKnown(small, 1, createRng(1), () => true)).toBeUndefined();
    // uniform: every accepted peer is drawn about equally often
    const counts = new Map<string, number>();
    const rng = createRng(2);
    for (let i = 0; i < 20_000; i++) {
      const p = (sampleKnown(s, 1, rng, (x) => Number(x.slice(1)) < 10) ?? [])[0];
      if (p) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const values = [...counts.values()];
    expect(counts.size).toBe(10);
    expect(Math.max(...values) / Math.min(...values)).toBeLessThan(1.6);
  });

  it('forgetting keeps the sampling array in step with known peers', () => {
    const s = base(T, ['a', 'b', 'c', 'd']);
    forget(s, 'b');
    forget(s, 'd');
    expect([...s.knownList].sort()).toEqual(['a', 'c']);
    expect(checkInvariants(s)).toEqual([]);
  });

  it('a governor with 6,000 known peers reaches its targets with the invariants intact', () => {
    const peers = Array.from({ length: 6000 }, (_, i) => `10.0.${i >> 8}.${i & 255}:3001`);
    const env = new SimulatedNode({
      seed: 3,
      peers: peers.map((peer) => ({
        peer,
        connectSuccess: 0.8,
        latencyMs: 50,
        activateFailure: 0.05,
        hotLifetimeMs: 600_000,
        asyncErrorShare: 0.3,
        sharing: true,
        neighbours: [],
        headerDelayMs: 1000,
      })),
      publicRoots: peers.map((peer) => ({ peer, kind: 'public-root' as const, advertise: false })),
      targets: {
        root: 6000,
        known: 6000,
        established: 30,
        active: 20,
        knownBigLedger: 0,
        establishedBigLedger: 0,
        activeBigLedger: 0,
      },
      checkInvariants: true,
      keepTrace: false,
    });
    env.runUntil(1_200_000);
    expect(env.snapshot().counters).toMatchObject({ known: 6000, established: 30, active: 20 });
  });
});

describe('step', () => {
  it('is pure: the given state is untouched, and a seed reproduces the result', () => {
    const s = base(T, ['a', 'b', 'c', 'd', 'e']);
    const before = JSON.stringify([...s.known], null, 0) + s.inProgressPromoteCold.size;
    const r1 = step(s, [], 0, createRng(5));
    const r2 = step(s, [], 0, createRng(5));
    expect(JSON.stringify([...s.known]) + s.inProgressPromoteCold.size).toBe(before);
    expect(r1.jobs).toEqual(r2.jobs);
    expect(r1.state.inProgressPromoteCold.size).toBe(3);
  });

  it('returns a wake-up time when only a timer can enable progress', () => {
    const s = base({ ...T, established: 1, active: 0 }, ['a']);
    s.nextConnect.set('a', 42_000);
    const r = step(s, [], 0, rng());
    expect(r.jobs).toEqual([]);
    expect(r.wakeupAt).toBe(42_000);
    expect(jobsOf(step(r.state, [], 42_000, rng()).jobs, 'connect').length).toBe(1);
  });
});

describe('peer metrics', () => {
  it('keeps the earliest delivery per slot, at most 180 slots, ignoring entries older than the board', () => {
    let m = emptyMetrics();
    m = addHeaderMetric(m, 1, 'a', 10);
    m = addHeaderMetric(m, 1, 'b', 9);
    m = addHeaderMetric(m, 1, 'c', 11);
    expect(upstreamyness(m).get('b')).toBe(1);
    expect(upstreamyness(m).has('a')).toBe(false);
    for (let slot = 2; slot <= 200; slot++) m = addHeaderMetric(m, slot, 'a', slot);
    expect(m.headers.size).toBe(180);
    const before = m.headers;
    m = addHeaderMetric(m, 5, 'z', 0); // older than the whole board
    expect(m.headers).toBe(before);
    expect(m.registry.get('b')?.joined).toBe(1);
  });
});

describe('churn', () => {
  it('decrease replaces 20%, at least one; decreaseWithMin at least the tier above', () => {
    expect(decrease(20)).toBe(16);
    expect(decrease(4)).toBe(3);
    expect(decrease(0)).toBe(0);
    expect(decreaseWithMin(5, 10)).toBe(5);
    expect(decreaseWithMin(0, 10)).toBe(8);
  });

  it('a new configuration (base targets) is installed at once, also between cycles', () => {
    const base: Targets = {
      root: 60,
      known: 150,
      established: 30,
      active: 20,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 5,
    };
    const c = {
      known: 150,
      established: 30,
      active: 20,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 5,
      root: 60,
    };
    const r = createRng(8);
    let res = churnStep(initialChurnState(), { now: 0, counters: c, base }, r);
    res = churnStep(res.state, { now: 3000, counters: c, base }, r);
    const next = { ...base, known: 100, established: 20, active: 10 };
    res = churnStep(res.state, { now: 100_000, counters: c, base: next }, r);
    expect(res.targets).toEqual(next);
    expect(res.state.phase).toBe('interval');
  });

  it('bulk-sync regimes cap hot peers (ltt + 1, active BLP 1) and churn every 900-960 s', () => {
    const base: Targets = {
      root: 60,
      known: 150,
      established: 30,
      active: 20,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 5,
    };
    const c = {
      known: 150,
      established: 30,
      active: 3,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 1,
      root: 60,
    };
    const input = {
      counters: c,
      base,
      regime: 'praosSync' as const,
      fetchMode: 'bulkSync' as const,
      localRootHotTarget: 2,
    };
    const r = createRng(4);
    let res = churnStep(initialChurnState(), { ...input, now: 0 }, r);
    // praosSync starts from the configured targets (root 0 for 3 s) and caps only in its steps
    expect(res.targets).toMatchObject({ root: 0, active: 20, activeBigLedger: 5 });
    res = churnStep(res.state, { ...input, now: 3000 }, r);
    expect(res.wakeupAt - 3000).toBeGreaterThanOrEqual(900_000);
    expect(res.wakeupAt - 3000).toBeLessThanOrEqual(960_000);
    // the big ledger steps finish or time out (<= 300 s each); step 7 decreases active to min(ltt, active - 1)
    let t = res.wakeupAt;
    for (let i = 0; i < 20; i++) {
      res = churnStep(res.state, { ...input, now: t }, r);
      if (res.state.step === 6) break;
      t += 301_000;
    }
    expect(res.state.step).toBe(6);
    expect(res.state.targets.active).toBe(2);
  });

  it('starts with root 0 for 3 s, waits the fuzzed interval, then steps in order with timeouts', () => {
    const base: Targets = {
      root: 60,
      known: 150,
      established: 30,
      active: 20,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 5,
    };
    const c = {
      known: 150,
      established: 30,
      active: 20,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 5,
      root: 60,
    };
    const r = createRng(3);
    let st = initialChurnState();
    let res = churnStep(st, { now: 0, counters: c, base }, r);
    expect(res.targets).toMatchObject({ root: 0, known: 150 });
    res = churnStep(res.state, { now: 3000, counters: c, base }, r);
    expect(res.targets).toEqual(base);
    expect(res.wakeupAt).toBeGreaterThanOrEqual(3_303_000);
    expect(res.wakeupAt).toBeLessThanOrEqual(3_903_000);
    res = churnStep(res.state, { now: res.wakeupAt, counters: c, base }, r);
    expect(res.trace.at(-1)).toBeUndefined();
    expect(res.targets?.activeBigLedger).toBe(4);
    // the governor follows: active BLP 4 -> step done, next step restores it
    st = res.state;
    const t0 = st.stepStarted;
    res = churnStep(st, { now: t0 + 1000, counters: { ...c, activeBigLedger: 4 }, base }, r);
    expect(res.trace[0]).toMatchObject({ action: CHURN_STEPS[0], ok: true, delta: 1 });
    expect(res.targets?.activeBigLedger).toBe(5);
    // nobody follows: the step times out after 60 s
    res = churnStep(res.state, { now: t0 + 61_000, counters: { ...c, activeBigLedger: 4 }, base }, r);
    expect(res.trace[0]).toMatchObject({ action: CHURN_STEPS[1], ok: false });
  });
});
