/**
 * The reference's governor properties (governor.md §12.1) re-expressed on random mock
 * environments. Every run is seeded (fast-check seed and environment seed), numRuns bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHURN_STEPS, decrease } from '../../src/governor/churn.js';
import { pickColdToForget, pickHotToDemote, pickWarmToDemote } from '../../src/governor/policies.js';
import { createRng } from '../../src/governor/rng.js';
import { type GovernorState, initialState, type Targets } from '../../src/governor/types.js';
import { randomEnvironment } from '../../src/sim/random-world.js';
import { type SimNodeConfig, SimulatedNode } from '../../src/sim/simulated-node.js';

/** Milliseconds per second: the simulation's times are ms. */
const S = 1000;

const FC = { seed: 20261123, numRuns: 12 };

const envArb = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  peers: fc.integer({ min: 20, max: 250 }),
  localRootGroups: fc.integer({ min: 0, max: 3 }),
  publicRoots: fc.integer({ min: 0, max: 8 }),
  pools: fc.integer({ min: 0, max: 60 }),
  churn: fc.boolean(),
});

function run(cfg: SimNodeConfig, until: number, observe?: (env: SimulatedNode) => void): SimulatedNode {
  const env = new SimulatedNode(cfg);
  if (observe) env.observers.push((e) => observe(e));
  env.runUntil(until);
  return env;
}

const nonBlp = (s: GovernorState, xs: Iterable<string>) => [...xs].filter((p) => !s.publicRoots.bigLedger.has(p));

describe('governor properties on random environments (§12.1)', () => {
  it('hasoutput, nofail (invariants after every step), nolivelock (≤ 1000 decisions per instant)', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const env = run({ ...randomEnvironment(o.seed, o), checkInvariants: true }, 4 * 3600 * S);
        expect(env.decisionCount).toBeGreaterThan(0);
        expect(env.violations).toEqual([]);
        expect(env.maxDecisionsAtOneInstant).toBeLessThanOrEqual(1000);
      }),
      FC,
    );
  });

  it('nofail and nolivelock while targets, local roots and inbound peers change on scripts', () => {
    fc.assert(
      fc.property(envArb, fc.integer({ min: 1, max: 1_000_000 }), (o, scriptSeed) => {
        const r = createRng(scriptSeed);
        const cfg = randomEnvironment(o.seed, o);
        const randomTargets = (): Targets => {
          const active = r.int(15);
          const established = active + r.int(15);
          const known = established + r.int(40);
          const ab = r.int(4);
          const eb = ab + r.int(5);
          return {
            root: r.int(known + 1),
            known,
            established,
            active,
            knownBigLedger: eb + r.int(10),
            establishedBigLedger: eb,
            activeBigLedger: ab,
          };
        };
        const peers = cfg.peers.map((p) => p.peer);
        const somePeer = () => peers[r.int(peers.length)] as string;
        const env = new SimulatedNode({
          ...cfg,
          checkInvariants: true,
          targetScript: Array.from({ length: 3 }, (_, i) => ({
            at: (600 + i * 1500 + r.int(600)) * S,
            targets: randomTargets(),
          })),
          localRootScript: Array.from({ length: 3 }, (_, i) => ({
            at: (300 + i * 2000 + r.int(900)) * S,
            groups: Array.from({ length: r.int(4) }, () => {
              const size = 1 + r.int(4);
              const warm = 1 + r.int(size);
              return {
                hotValency: 1 + r.int(warm),
                warmValency: warm,
                peers: Array.from({ length: size }, () => ({
                  peer: somePeer(),
                  config: { behindFirewall: r.chance(0.1), advertise: r.chance(0.5) },
                })),
              };
            }),
          })),
          inboundPeers: Array.from({ length: r.int(6) }, () => [somePeer(), r.chance(0.5)] as [string, boolean]),
        });
        env.runUntil(3 * 3600 * S);
        expect(env.violations).toEqual([]);
        expect(env.maxDecisionsAtOneInstant).toBeLessThanOrEqual(1000);
      }),
      FC,
    );
  });

  it('connstatus: after every instant the governor view equals the environment (ignoring cooling)', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const problems: string[] = [];
        run(randomEnvironment(o.seed, o), 2 * 3600 * S, (env) => {
          const s = env.state;
          for (const p of s.established.keys()) {
            const st = env.envStatus(p);
            if (s.inProgressDemoteToCold.has(p) || st === 'cooling') continue;
            if (s.inProgressDemoteWarm.has(p) || s.inProgressDemoteHot.has(p) || s.inProgressPromoteWarm.has(p))
              continue;
            const gov = s.active.has(p) ? 'hot' : 'warm';
            if (st !== gov) problems.push(`${env.now}: ${p} governor ${gov} env ${st}`);
          }
        });
        expect(problems.slice(0, 5)).toEqual([]);
      }),
      FC,
    );
  });

  it('known peers come only from announced sources (roots, ledger, peer sharing, inbound)', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const bad: string[] = [];
        run(randomEnvironment(o.seed, o), 2 * 3600 * S, (env) => {
          for (const p of env.state.known.keys()) if (!env.announced.has(p)) bad.push(p);
        });
        expect(bad.slice(0, 5)).toEqual([]);
      }),
      FC,
    );
  });

  it('peer sharing is not too chatty: no peer asked again within the retry time unless reconnected', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const env = run(randomEnvironment(o.seed, { ...o, pools: 0, publicRoots: 6 }), 4 * 3600 * S);
        const lastAsked = new Map<string, number>();
        const lastConnected = new Map<string, number>();
        for (const { at, job } of env.jobLog) {
          if (job.kind === 'connect') lastConnected.set(job.peer, at);
          if (job.kind !== 'peerShare') continue;
          expect(job.peers.length).toBeLessThanOrEqual(2);
          for (const p of job.peers) {
            const prev = lastAsked.get(p);
            if (prev !== undefined && (lastConnected.get(p) ?? -1) < prev)
              expect(at - prev).toBeGreaterThanOrEqual(900 * S - 1e-6);
            lastAsked.set(p, at);
          }
        }
      }),
      FC,
    );
  });

  it('opportunities are taken at once: below target with candidates, promotions are in flight', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const problems: string[] = [];
        run(randomEnvironment(o.seed, o), 2 * 3600 * S, (env) => {
          const s = env.state;
          // established (other peers): below target and a dialable, non-local, non-BLP cold peer exists
          const est = nonBlp(s, s.established.keys()).length + nonBlp(s, s.inProgressPromoteCold).length;
          if (est < s.targets.established) {
            for (const p of s.known.keys()) {
              if (s.publicRoots.bigLedger.has(p) || s.localRoots.config.has(p)) continue;
              if (!s.established.has(p) && !s.inProgressPromoteCold.has(p) && !s.nextConnect.has(p)) {
                problems.push(`${env.now}: established ${est} < ${s.targets.established} with ${p} dialable`);
                break;
              }
            }
          }
          // active: below target and a ready warm non-local non-BLP peer exists
          const act = nonBlp(s, s.active).length + nonBlp(s, s.inProgressPromoteWarm).length;
          if (act < s.targets.active) {
            for (const p of s.established.keys()) {
              if (s.publicRoots.bigLedger.has(p) || s.localRoots.config.has(p) || s.active.has(p)) continue;
              if (s.nextActivate.has(p) || s.inProgressPromoteWarm.has(p) || s.inProgressDemoteWarm.has(p)) continue;
              if (s.inProgressDemoteToCold.has(p)) continue;
              problems.push(`${env.now}: active ${act} < ${s.targets.active} with ${p} ready`);
              break;
            }
          }
          // known above target with forgettable cold peers: forgetting happened
          const known = s.known.size - s.publicRoots.bigLedger.size;
          if (known > s.targets.known) {
            for (const p of s.known.keys()) {
              if (s.established.has(p) || s.localRoots.config.has(p) || s.publicRoots.bigLedger.has(p)) continue;
              if (s.inProgressPromoteCold.has(p) || s.publicRoots.ledger.has(p) || s.publicRoots.extra.has(p)) continue;
              problems.push(`${env.now}: known ${known} > ${s.targets.known} with ${p} forgettable`);
              break;
            }
          }
        });
        expect(problems.slice(0, 3)).toEqual([]);
      }),
      FC,
    );
  });

  it('more opportunities taken at once: root and big-ledger requests, peer sharing, local roots, shedding', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const problems: string[] = [];
        run(randomEnvironment(o.seed, o), 2 * 3600 * S, (env) => {
          const s = env.state;
          const now = env.now;
          const at = (what: string) => problems.push(`${now}: ${what}`);
          const roots =
            s.localRoots.config.size +
            s.publicRoots.ledger.size +
            s.publicRoots.bigLedger.size +
            s.publicRoots.extra.size;
          if (roots < s.targets.root && !s.inProgressPublicRootsReq && now >= s.publicRootRetryTime)
            at('root request missed');
          if (
            s.publicRoots.bigLedger.size < s.targets.knownBigLedger &&
            !s.inProgressBigLedgerPeersReq &&
            now >= s.bigLedgerPeerRetryTime
          )
            at('big ledger request missed');
          const known = s.known.size - s.publicRoots.bigLedger.size;
          const shareable = [...s.availableForShare].filter((p) => !s.inProgressDemoteToCold.has(p));
          if (known < s.targets.known && s.inProgressPeerShareReqs < 2 && shareable.length > 0) at('peer share missed');
          // big ledger peers
          const blp = [...s.publicRoots.bigLedger];
          const estBlp = blp.filter((p) => s.established.has(p) || s.inProgressPromoteCold.has(p)).length;
          if (
            estBlp < s.targets.establishedBigLedger &&
            blp.some((p) => !s.established.has(p) && !s.inProgressPromoteCold.has(p) && !s.nextConnect.has(p))
          )
            at('big ledger promotion missed');
          const actBlp = blp.filter((p) => s.active.has(p) || s.inProgressPromoteWarm.has(p)).length;
          const readyBlp = (p: string) =>
            s.established.has(p) &&
            !s.active.has(p) &&
            !s.nextActivate.has(p) &&
            !s.inProgressPromoteWarm.has(p) &&
            !s.inProgressDemoteWarm.has(p) &&
            !s.inProgressDemoteToCold.has(p);
          if (actBlp < s.targets.activeBigLedger && blp.some(readyBlp)) at('big ledger activation missed');
          // local roots: below warm valency with a dialable member, below hot valency with a ready member
          for (const g of s.localRoots.groups) {
            const est = g.members.filter((p) => s.established.has(p) || s.inProgressPromoteCold.has(p)).length;
            if (
              est < g.warmValency &&
              g.members.some((p) => !s.established.has(p) && !s.inProgressPromoteCold.has(p) && !s.nextConnect.has(p))
            )
              at('local root promotion missed');
            const act = g.members.filter((p) => s.active.has(p) || s.inProgressPromoteWarm.has(p)).length;
            if (act < g.hotValency && g.members.some(readyBlp)) at('local root activation missed');
          }
          // above target: the excess (net of what is in flight) is being demoted
          const activeOther = [...s.active].filter((p) => !s.publicRoots.bigLedger.has(p));
          const coolingActive = activeOther.filter((p) => s.inProgressDemoteToCold.has(p)).length;
          const demotingHot = [...s.inProgressDemoteHot].filter((p) => !s.publicRoots.bigLedger.has(p)).length;
          const hotCandidates = activeOther.filter(
            (p) => !s.localRoots.config.has(p) && !s.inProgressDemoteHot.has(p) && !s.inProgressDemoteToCold.has(p),
          );
          if (activeOther.length - s.targets.active - demotingHot - coolingActive > 0 && hotCandidates.length > 0)
            at('hot demotion missed');
        });
        expect(problems.slice(0, 3)).toEqual([]);
      }),
      FC,
    );
  });

  it('trace coverage: the main decisions and completions all occur over a few environments', () => {
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      const cfg = randomEnvironment(seed, { peers: 200, localRootGroups: 2, publicRoots: 6, pools: 60, churn: true });
      const env = run(
        {
          ...cfg,
          // root target above what local roots and big ledger peers give, so public roots are asked for
          targets: { ...cfg.targets, root: 30 },
          peers: cfg.peers.map((p) => ({ ...p, hotLifetimeMs: 900 * S, activateFailure: 0.1 })),
        },
        3 * 3600 * S,
      );
      for (const r of env.trace) seen.add(r.type);
    }
    for (const t of [
      'TargetsChanged',
      'LocalRootPeersChanged',
      'PublicRootsRequest',
      'PublicRootsResults',
      'BigLedgerPeersRequest',
      'BigLedgerPeersResults',
      'PeerShareRequests',
      'PeerShareResults',
      'PromoteColdPeers',
      'PromoteColdLocalPeers',
      'PromoteColdBigLedgerPeers',
      'PromoteColdDone',
      'PromoteColdFailed',
      'PromoteWarmPeers',
      'PromoteWarmLocalPeers',
      'PromoteWarmBigLedgerPeers',
      'PromoteWarmDone',
      'DemoteHotPeers',
      'DemoteHotDone',
      'DemoteWarmPeers',
      'DemoteWarmDone',
      'DemoteAsynchronousToWarm',
      'DemoteAsynchronousToCooling',
      'DemoteAsynchronousToCold',
      'DecreasedActivePeers',
      'IncreasedKnownPeers',
    ])
      expect(seen, t).toContain(t);
  });

  it('nobusyness: busy spans (events < 45 s apart) last at most 65 s plus perturbation credits', () => {
    // Credits as the reference's test: new targets 80 + 10·(known + established + active), asynchronous
    // demotion 30, peer-share result 10, root result 15, local-root (graph) change 400.
    const credit = (type: string, detail?: string): number => {
      if (type === 'TargetsChanged') {
        const t = JSON.parse(detail ?? '{}') as Partial<Targets>;
        return 80 + 10 * ((t.known ?? 0) + (t.established ?? 0) + (t.active ?? 0));
      }
      if (type.startsWith('DemoteAsynchronous')) return 30;
      if (type.startsWith('PeerShareResults')) return 10;
      if (type === 'PublicRootsResults' || type === 'BigLedgerPeersResults') return 15;
      if (type === 'LocalRootPeersChanged') return 400;
      return 0;
    };
    fc.assert(
      fc.property(envArb, (o) => {
        const env = run(randomEnvironment(o.seed, o), 4 * 3600 * S);
        const events = env.trace.filter((r) => r.source === 'governor');
        let start = events[0]?.at ?? 0;
        let last = start;
        let credits = 0;
        const spans: string[] = [];
        const close = () => {
          if (last - start > (65 + credits) * S) spans.push(`${start}..${last} with ${credits} credits`);
        };
        for (const r of events) {
          if (r.at - last >= 45 * S) {
            close();
            start = r.at;
            credits = 0;
          }
          last = r.at;
          credits += credit(r.type, r.detail);
        }
        close();
        expect(spans).toEqual([]);
      }),
      FC,
    );
  });

  it('peershare_1hr: after 1 h every known peer is reachable by peer sharing from the roots', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const cfg = randomEnvironment(o.seed, o);
        const env = run(cfg, 3600 * S);
        const graph = new Map(cfg.peers.map((p) => [p.peer, p.neighbours]));
        const roots = [
          ...(cfg.localRoots ?? []).flatMap((g) => g.peers.map((p) => p.peer)),
          ...(cfg.publicRoots ?? []).map((r) => r.peer),
          ...(cfg.ledgerPools ?? []).flatMap((p) => p.relays),
        ];
        const reachable = new Set(roots);
        const queue = [...roots];
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
          for (const q of graph.get(p) ?? []) {
            if (!reachable.has(q)) {
              reachable.add(q);
              queue.push(q);
            }
          }
        }
        for (const p of env.state.known.keys()) expect(reachable.has(p), p).toBe(true);
      }),
      FC,
    );
  });

  it('no overshoot with stable targets and no local roots', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const problems: string[] = [];
        run(randomEnvironment(o.seed, { ...o, localRootGroups: 0, churn: false }), 2 * 3600 * S, (env) => {
          const s = env.state;
          const est = nonBlp(s, s.established.keys()).length + nonBlp(s, s.inProgressPromoteCold).length;
          const act = nonBlp(s, s.active).length + nonBlp(s, s.inProgressPromoteWarm).length;
          const known = s.known.size - s.publicRoots.bigLedger.size;
          if (est > s.targets.established) problems.push(`${env.now}: established ${est} > ${s.targets.established}`);
          if (act > s.targets.active) problems.push(`${env.now}: active ${act} > ${s.targets.active}`);
          if (known > s.targets.known) problems.push(`${env.now}: known ${known} > ${s.targets.known}`);
          const blpAct = s.active.size - nonBlp(s, s.active).length;
          if (blpAct > s.targets.activeBigLedger) problems.push(`${env.now}: active BLP ${blpAct}`);
        });
        expect(problems.slice(0, 3)).toEqual([]);
      }),
      FC,
    );
  });

  it('targets are reached from below and shed from above within bounded time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const base = randomEnvironment(seed, { peers: 200, publicRoots: 10, pools: 80, degree: 12, deadShare: 0 });
        const high: Targets = {
          root: 10,
          known: 60,
          established: 20,
          active: 10,
          knownBigLedger: 8,
          establishedBigLedger: 5,
          activeBigLedger: 2,
        };
        const low: Targets = {
          root: 5,
          known: 30,
          established: 8,
          active: 4,
          knownBigLedger: 4,
          establishedBigLedger: 2,
          activeBigLedger: 1,
        };
        const env = new SimulatedNode({
          ...base,
          targets: high,
          peers: base.peers.map((p) => ({ ...p, connectSuccess: 1, activateFailure: 0, hotLifetimeMs: undefined })),
          targetScript: [{ at: 3 * 3600 * S, targets: low }],
        });
        // From below: peer sharing needs the 300 s activation delay and 900 s retry time.
        env.runUntil(2 * 3600 * S);
        const c = env.snapshot().counters;
        expect(c.established).toBe(high.established);
        expect(c.active).toBe(high.active);
        expect(c.known).toBeGreaterThanOrEqual(high.known);
        expect(c.establishedBigLedger).toBe(high.establishedBigLedger);
        expect(c.activeBigLedger).toBe(high.activeBigLedger);
        // From above: demotions within deactivation + close time-wait (60 s) + slack.
        env.runUntil((3 * 3600 + 180) * S);
        const d = env.snapshot().counters;
        expect(d.active).toBe(low.active);
        expect(d.established).toBe(low.established);
        expect(d.known).toBeLessThanOrEqual(low.known);
        expect(d.activeBigLedger).toBe(low.activeBigLedger);
        expect(d.establishedBigLedger).toBe(low.establishedBigLedger);
        expect(d.knownBigLedger).toBe(low.knownBigLedger);
      }),
      { ...FC, numRuns: 6 },
    );
  });

  it('local-root groups are kept at their valencies and never demoted for the general targets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const base = randomEnvironment(seed, { peers: 120, localRootGroups: 3, publicRoots: 6, pools: 30 });
        const localPeers = new Set((base.localRoots ?? []).flatMap((g) => g.peers.map((p) => p.peer)));
        // local roots always connect and stay up; tiny general targets so local roots exceed them
        const env = new SimulatedNode({
          ...base,
          targets: { ...base.targets, established: 2, active: 1 },
          peers: base.peers.map((p) =>
            localPeers.has(p.peer) ? { ...p, connectSuccess: 1, activateFailure: 0, hotLifetimeMs: undefined } : p,
          ),
        });
        env.runUntil(600 * S);
        const s = env.state;
        for (const g of s.localRoots.groups) {
          expect(g.members.filter((p) => s.established.has(p)).length).toBeGreaterThanOrEqual(g.warmValency);
          expect(g.members.filter((p) => s.active.has(p)).length).toBe(g.hotValency);
        }
        for (const r of env.trace) {
          if (r.type === 'DemoteHotPeers' || r.type === 'DemoteWarmPeers')
            for (const p of r.peers ?? []) expect(localPeers.has(p)).toBe(false);
        }
      }),
      FC,
    );
  });

  it('repromote delays are always fuzzed', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const bad: string[] = [];
        const cfg = randomEnvironment(o.seed, o);
        const env = new SimulatedNode({
          ...cfg,
          peers: cfg.peers.map((p) => ({ ...p, hotLifetimeMs: 300 * S, asyncErrorShare: 0.3 })),
        });
        env.observers.push((e, decisions) => {
          for (const d of decisions)
            for (const t of d.trace)
              if (t.type === 'DemoteAsynchronousToWarm')
                for (const p of t.peers ?? []) {
                  const at = e.state.nextActivate.get(p);
                  if (at === undefined) continue;
                  const delay = at - e.now;
                  if ([10, 120, 180].map((x) => x * S).includes(delay) || delay < 10.1 * S || delay > 190 * S)
                    bad.push(`${p} ${delay}`);
                }
        });
        env.runUntil(2 * 3600 * S);
        expect(bad).toEqual([]);
      }),
      FC,
    );
  });

  it('churn runs its steps in order, decreasing by at least 20% and at least one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const cfg = randomEnvironment(seed, { peers: 200, publicRoots: 10, pools: 80, churn: true, deadShare: 0 });
        const env = new SimulatedNode(cfg);
        env.runUntil(3 * 4000 * S);
        const steps = env.churnTrace.filter((c) => (CHURN_STEPS as readonly string[]).includes(c.action));
        expect(steps.length).toBeGreaterThanOrEqual(12);
        steps.forEach((c, i) => {
          expect(c.action).toBe(CHURN_STEPS[i % 12]);
        });
        const b = cfg.targets;
        for (const c of steps) {
          if (c.action === 'DecreasedActivePeers') expect(c.targets.active).toBeLessThanOrEqual(decrease(b.active));
          if (c.action === 'DecreasedActiveBigLedgerPeers')
            expect(c.targets.activeBigLedger).toBeLessThanOrEqual(decrease(b.activeBigLedger));
          if (c.action === 'DecreasedEstablishedPeers')
            expect(b.established - c.targets.established).toBeGreaterThanOrEqual(
              Math.max(1, Math.floor((b.established - b.active) / 5)),
            );
          if (c.action === 'DecreasedKnownPeers')
            expect(b.known - c.targets.known).toBeGreaterThanOrEqual(
              Math.max(1, Math.floor((b.known - b.established) / 5)),
            );
          if (c.action.startsWith('Increased')) {
            for (const k of Object.keys(b) as Array<keyof Targets>) expect(c.targets[k]).toBeLessThanOrEqual(b[k]);
          }
        }
      }),
      { ...FC, numRuns: 5 },
    );
  });
});

describe('policy properties (Policies.hs)', () => {
  it('prop_hotToWarm: no unpicked peer has a lower score than a picked one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.option(fc.integer({ min: 0, max: 50 }))), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (entries, n, seed) => {
          const peers = entries.map((_, i) => `p${i}`);
          const score = new Map<string, number>();
          const joined = new Map<string, number>();
          entries.forEach(([sc, j], i) => {
            if (j !== null) {
              score.set(`p${i}`, sc);
              joined.set(`p${i}`, j);
            }
          });
          const picked = pickHotToDemote(peers, n, createRng(seed), { score, joined });
          expect(picked.length).toBe(Math.min(n, peers.length));
          const pickedSet = new Set(picked);
          const key = (p: string) => [score.get(p) ?? 0, joined.get(p) ?? Number.NEGATIVE_INFINITY] as const;
          const le = (a: readonly [number, number], b: readonly [number, number]) =>
            a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
          for (const u of peers.filter((p) => !pickedSet.has(p)))
            for (const p of picked) expect(le(key(p), key(u))).toBe(true);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it('prop_randomDemotion: tepid peers demoted and failing peers forgotten more often (10,000 draws)', () => {
    const s = initialState();
    const peers = Array.from({ length: 10 }, (_, i) => `p${i}`);
    peers.forEach((p, i) => {
      s.known.set(p, {
        failCount: i < 5 ? 3 : 0,
        tepid: i < 5,
        sharing: undefined,
        advertise: false,
        successfulConnection: true,
        origin: 'ledger',
      });
    });
    const rng = createRng(11);
    let tepidDemoted = 0;
    let failingForgotten = 0;
    for (let i = 0; i < 10_000; i++) {
      if ((pickWarmToDemote(s, peers, 1, rng)[0] ?? 'p9') < 'p5') tepidDemoted++;
      if ((pickColdToForget(s, peers, 1, rng)[0] ?? 'p9') < 'p5') failingForgotten++;
    }
    expect(tepidDemoted).toBeGreaterThan(6000);
    expect(failingForgotten).toBeGreaterThan(6000);
  });
});
