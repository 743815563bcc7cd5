/**
 * The reference's bootstrap / Genesis properties (governor.md §12.1 "Bootstrap/Genesis") and
 * "peer-share results in known within 11 s", re-expressed on random mock environments whose
 * ledger-state judgement changes on a script. Seeded, bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_PEERS_TIMEOUT_MS, isTrusted, requiresBootstrapPeers } from '../../src/governor/bootstrap.js';
import { step } from '../../src/governor/governor.js';
import { createRng } from '../../src/governor/rng.js';
import { insertKnown } from '../../src/governor/state.js';
import {
  type Decision,
  type GovernorState,
  initialState,
  type LedgerStateJudgement,
  type Peer,
  type RootPeerResult,
  SYNC_DEFAULT_TARGETS,
  type Targets,
} from '../../src/governor/types.js';
import { randomEnvironment } from '../../src/sim/random-world.js';
import { type SimNodeConfig, SimulatedNode } from '../../src/sim/simulated-node.js';
import type { SimPeer } from '../../src/sim/world.js';

const FC = { seed: 20261123, numRuns: 8 };
/** Milliseconds per second: the simulation's times are ms. */
const S = 1000;

const envArb = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  peers: fc.integer({ min: 20, max: 150 }),
  localRootGroups: fc.integer({ min: 0, max: 3 }),
  publicRoots: fc.integer({ min: 0, max: 5 }),
  pools: fc.integer({ min: 0, max: 40 }),
  churn: fc.boolean(),
  bootstrap: fc.integer({ min: 1, max: 5 }),
  trustShare: fc.double({ min: 0, max: 1, noNaN: true }),
  startTooOld: fc.boolean(),
  switches: fc.array(fc.integer({ min: 30, max: 7200 }), { minLength: 1, maxLength: 3 }),
});

type EnvOpts = typeof envArb extends fc.Arbitrary<infer A> ? A : never;

/** A random network with bootstrap peers, some trustable local roots and a judgement script. */
function bootstrapEnv(o: EnvOpts): SimNodeConfig {
  const cfg = randomEnvironment(o.seed, o);
  const r = createRng(o.seed ^ 0x1234567);
  const template = cfg.peers[0] as SimPeer;
  const bootstrapPeers: RootPeerResult[] = [];
  const extra: SimPeer[] = [];
  for (let i = 0; i < o.bootstrap; i++) {
    const peer = `10.250.0.${i + 1}:3001`;
    bootstrapPeers.push({ peer, kind: 'bootstrap', advertise: false });
    // Some bootstrap peers never answer: they stay known but cold, and must be forgotten on leaving.
    extra.push({
      ...template,
      peer,
      connectSuccess: r.chance(0.3) ? 0 : 0.9,
      neighbours: [],
      hotLifetimeMs: undefined,
    });
  }
  const localRoots = (cfg.localRoots ?? []).map((g) => ({
    ...g,
    peers: g.peers.map((p) => ({ ...p, config: { ...(p.config ?? {}), trustable: r.chance(o.trustShare) } })),
  }));
  let j: LedgerStateJudgement = o.startTooOld ? 'tooOld' : 'youngEnough';
  const judgementScript: Array<{ at: number; judgement: LedgerStateJudgement }> = [{ at: 0, judgement: j }];
  for (const at of [...new Set(o.switches)].sort((a, b) => a - b)) {
    j = j === 'tooOld' ? 'youngEnough' : 'tooOld';
    judgementScript.push({ at: at * S, judgement: j });
  }
  return {
    ...cfg,
    peers: [...cfg.peers, ...extra],
    localRoots,
    bootstrapPeers,
    judgementScript,
    checkInvariants: true,
  };
}

/** Walks a step's decisions in order, telling whether the state was sensitive when each was taken. */
function eachDecision(
  sensitiveBefore: boolean,
  decisions: Decision[],
  f: (d: Decision, sensitive: boolean) => void,
): boolean {
  let sensitive = sensitiveBefore;
  for (const d of decisions) {
    for (const e of d.trace) {
      if (e.type === 'EnterSensitiveState') sensitive = true;
      // Leaving, a flag change, or a forced `youngEnough` (local roots no longer trustable).
      if (e.type === 'LeaveSensitiveState' || e.type === 'UseBootstrapPeersChanged') sensitive = false;
      if (e.type === 'LedgerStateJudgementChanged' && e.detail === 'youngEnough') sensitive = false;
    }
    f(d, sensitive);
  }
  return sensitive;
}

describe('bootstrap peers and Genesis on random environments (§12.1)', () => {
  it('sensitive state: only trusted peers once quiet, only trusted peers dialled, bootstrap requests only then; leaving forgets untrusted bootstrap peers', () => {
    let entered = 0;
    let left = 0;
    let quiesced = 0;
    let forgottenOnLeaving = 0;
    fc.assert(
      fc.property(envArb, (o) => {
        const env = new SimulatedNode(bootstrapEnv(o));
        let sensitive = false;
        env.observers.push((e, decisions) => {
          const s = e.state;
          sensitive = eachDecision(sensitive, decisions, (d, sens) => {
            for (const j of d.jobs) {
              // Connections and activations in the sensitive state go to trusted peers only.
              if (sens && (j.kind === 'connect' || j.kind === 'activate')) expect(isTrusted(s, j.peer)).toBe(true);
              // Bootstrap peers are asked for exactly while sensitive; ledger / public roots otherwise.
              if (j.kind === 'rootPeers') expect(j.bootstrap === true).toBe(sens);
              // Never learn from untrusted sources before caught up.
              if (sens) expect(['peerShare', 'bigLedgerPeers']).not.toContain(j.kind);
            }
            for (const t of d.trace) {
              if (t.type === 'EnterSensitiveState') entered++;
              if (t.type === 'OnlyBootstrapPeers') quiesced++;
              if (t.type === 'LeaveSensitiveState') {
                left++;
                forgottenOnLeaving += t.peers?.length ?? 0;
                for (const p of t.peers ?? []) expect(s.known.has(p)).toBe(false);
              }
            }
          });
          expect(sensitive).toBe(requiresBootstrapPeers(s));
          if (requiresBootstrapPeers(s) && s.hasOnlyBootstrapPeers) {
            for (const p of s.known.keys()) expect(isTrusted(s, p)).toBe(true);
            for (const p of s.established.keys()) expect(isTrusted(s, p)).toBe(true);
            for (const p of s.active) expect(isTrusted(s, p)).toBe(true);
          }
          if (!requiresBootstrapPeers(s)) {
            // Stop using bootstrap peers when not sensitive: the known ones are established (or being dialled).
            for (const [p, info] of s.publicRoots.extra)
              if (info.bootstrap && decisions.some((d) => d.trace.some((t) => t.type === 'LeaveSensitiveState')))
                expect(s.established.has(p) || s.inProgressPromoteCold.has(p)).toBe(true);
          }
        });
        env.runUntil(3 * 3600 * S);
        // The mock network always settles: the deadline never passes.
        expect(env.critical).toBeUndefined();
        expect(env.violations).toEqual([]);
      }),
      FC,
    );
    // The runs did exercise the machinery.
    expect(entered).toBeGreaterThan(0);
    expect(quiesced).toBeGreaterThan(0);
    expect(left).toBeGreaterThan(0);
    expect(forgottenOnLeaving).toBeGreaterThan(0);
  });

  it('after leaving, ledger peers are used again', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const cfg = bootstrapEnv({ ...o, pools: Math.max(o.pools, 20), churn: false });
        cfg.judgementScript = [
          { at: 0, judgement: 'tooOld' },
          { at: 1200 * S, judgement: 'youngEnough' },
        ];
        const env = new SimulatedNode(cfg);
        env.runUntil(1199 * S);
        expect(env.state.hasOnlyBootstrapPeers).toBe(true);
        for (const p of env.state.known.keys()) expect(isTrusted(env.state, p)).toBe(true);
        env.runUntil((1200 + 3600) * S);
        expect(env.state.publicRoots.ledger.size + env.state.publicRoots.bigLedger.size).toBeGreaterThan(0);
        expect(env.jobLog.some((j) => j.at >= 1200 * S && j.job.kind === 'rootPeers' && !j.job.bootstrap)).toBe(true);
      }),
      { ...FC, numRuns: 5 },
    );
  });

  it('Genesis: targets follow the judgement (sync targets while too old), bootstrap peers unused', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const cfg = { ...bootstrapEnv({ ...o, churn: false }), consensusMode: 'genesis' as const };
        const env = new SimulatedNode(cfg);
        const script = cfg.judgementScript ?? [];
        const expected = (t: number): Targets => {
          let j: LedgerStateJudgement = 'youngEnough';
          for (const x of script) if (x.at <= t) j = x.judgement;
          return j === 'tooOld' ? SYNC_DEFAULT_TARGETS : cfg.targets;
        };
        env.observers.push((e, decisions) => {
          for (const d of decisions)
            for (const j of d.jobs) if (j.kind === 'rootPeers') expect(j.bootstrap).toBeUndefined();
          expect(requiresBootstrapPeers(e.state)).toBe(false);
        });
        for (const x of script) {
          env.runUntil(x.at + S);
          expect(env.state.targets).toEqual(expected(x.at + S));
        }
        expect(env.critical).toBeUndefined();
      }),
      { ...FC, numRuns: 5 },
    );
  });

  it('peer-share results reach known peers within 11 s (overall timeout + 1)', () => {
    fc.assert(
      fc.property(envArb, (o) => {
        const env = new SimulatedNode({ ...randomEnvironment(o.seed, o), checkInvariants: true });
        const issued = new Map<number, number>();
        let results = 0;
        env.observers.push((e, decisions) => {
          const s = e.state;
          for (const d of decisions) {
            for (const j of d.jobs) if (j.kind === 'peerShare') issued.set(j.id, e.now);
            for (const t of d.trace)
              if (t.type === 'PeerShareResults' || t.type === 'PeerShareResultsPartial') {
                results++;
                // Applied at once: every added peer is known right after the step (or already forgotten by a later decision of it).
                for (const p of t.peers ?? [])
                  expect(
                    s.known.has(p) || decisions.some((x) => x !== d && x.trace.some((y) => y.peers?.includes(p))),
                  ).toBe(true);
              }
          }
          for (const [id, at] of issued) {
            if (!s.peerShareJobs.has(id)) issued.delete(id);
            else expect(e.now - at).toBeLessThanOrEqual(11 * S);
          }
        });
        env.runUntil(2 * 3600 * S);
        return results >= 0;
      }),
      FC,
    );
  });

  it('the bootstrap deadline decision comes exactly when due, never earlier, on any step schedule', () => {
    let reached = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }).map((x) => x * S),
        fc.array(fc.double({ min: 1, max: 900 * S, noNaN: true }), { minLength: 5, maxLength: 30 }),
        (enterAt, gaps) => {
          const s0: GovernorState = initialState(0);
          const stuck: Peer = 'untrusted:1';
          insertKnown(s0, stuck, { origin: 'peer-share' });
          s0.inProgressPromoteCold.add(stuck); // a dial that never completes
          const rng = createRng(enterAt);
          let r = step(
            s0,
            [
              { kind: 'useBootstrapPeers', enabled: true },
              { kind: 'ledgerStateJudgement', judgement: 'tooOld' },
            ],
            enterAt,
            rng,
          );
          const due = enterAt + BOOTSTRAP_PEERS_TIMEOUT_MS;
          expect(r.state.bootstrapPeersTimeout).toBe(due);
          let t = enterAt;
          for (const g of gaps) {
            // A shell steps at the wake-up time at the latest.
            const next = Math.min(t + g, r.wakeupAt ?? Number.POSITIVE_INFINITY);
            expect(r.wakeupAt).toBeLessThanOrEqual(due);
            t = next;
            r = step(r.state, [], t, rng);
            if (t >= due) {
              expect(r.critical?.deadline).toBe(due);
              expect(t).toBe(due); // the wake-up time made the shell step exactly at the deadline
              reached++;
              return;
            }
            expect(r.critical).toBeUndefined();
          }
        },
      ),
      { seed: 20261123, numRuns: 200 },
    );
    expect(reached).toBeGreaterThan(10);
  });
});
