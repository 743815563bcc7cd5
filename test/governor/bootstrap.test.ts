/**
 * Cardano's extensions on hand-built states (governor.md §2.9): the bootstrap-peers sensitive
 * state (entering, quiescing, resuming with trustable local roots, the 15-minute deadline, leaving),
 * Genesis target switching and the association mode.
 */
import { describe, expect, it } from 'vitest';
import { nodeConfigFromDocument } from '../../src/config/index.js';
import {
  associationMode,
  BOOTSTRAP_PEERS_TIMEOUT_MS,
  cardanoStatus,
  clampToTrustable,
  requiresBootstrapPeers,
} from '../../src/governor/bootstrap.js';
import { step } from '../../src/governor/governor.js';
import { checkInvariants } from '../../src/governor/invariants.js';
import { DEFAULT_POLICY } from '../../src/governor/policies.js';
import { createRng } from '../../src/governor/rng.js';
import { insertEstablished, insertKnown } from '../../src/governor/state.js';
import {
  type Completion,
  type GovernorState,
  type Input,
  initialState,
  type LocalRootGroupConfig,
  normaliseLocalRoots,
  SYNC_DEFAULT_TARGETS,
  type Targets,
  ZERO_TARGETS,
} from '../../src/governor/types.js';

const T: Targets = {
  root: 3,
  known: 10,
  established: 4,
  active: 2,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
};
const rng = () => createRng(7);
const done = (completion: Completion): Input => ({ kind: 'completion', completion });
const tooOld: Input = { kind: 'ledgerStateJudgement', judgement: 'tooOld' };
const young: Input = { kind: 'ledgerStateJudgement', judgement: 'youngEnough' };
const useBootstrap: Input = { kind: 'useBootstrapPeers', enabled: true };
const LOCAL: LocalRootGroupConfig[] = [
  {
    hotValency: 2,
    warmValency: 2,
    peers: [
      { peer: 'trusted:1', config: { trustable: true } },
      { peer: 'untrusted:1' },
      { peer: 'trusted:2', config: { trustable: true } },
    ],
  },
  { hotValency: 1, peers: [{ peer: 'untrusted:2' }] },
];
const types = (r: { decisions: Array<{ trace: Array<{ type: string }> }> }) =>
  r.decisions.flatMap((d) => d.trace.map((e) => e.type));

/** A caught-up governor with targets, local roots and a few cold ledger peers. */
function caughtUp(): GovernorState {
  let s = step(
    initialState(0),
    [
      { kind: 'targets', targets: T },
      { kind: 'localRoots', groups: LOCAL },
    ],
    0,
    rng(),
  ).state;
  s = { ...s, publicRootRetryTime: 1e9, bigLedgerPeerRetryTime: 1e9, inProgressPublicRootsReq: false };
  for (const p of ['ledger:1', 'ledger:2']) {
    s.publicRoots.ledger.add(p);
    insertKnown(s, p, { origin: 'ledger' });
  }
  // Forget the jobs of the first step: a fresh state without anything in flight.
  s.inProgressPromoteCold.clear();
  return s;
}

describe('bootstrap sensitive state (§2.9)', () => {
  it('clampToTrustable keeps trustable members, lowers valencies, drops emptied groups', () => {
    const r = clampToTrustable(normaliseLocalRoots(LOCAL));
    expect(r.groups).toEqual([{ hotValency: 2, warmValency: 2, members: ['trusted:1', 'trusted:2'] }]);
    expect([...r.config.keys()]).toEqual(['trusted:1', 'trusted:2']);
    const one = clampToTrustable(
      normaliseLocalRoots([
        { hotValency: 3, peers: [{ peer: 'a', config: { trustable: true } }, { peer: 'b' }, { peer: 'c' }] },
      ]),
    );
    expect(one.groups).toEqual([{ hotValency: 1, warmValency: 1, members: ['a'] }]);
  });

  it('entering zeroes targets and local roots, arms the deadline, disables progress; sheds untrusted peers; then quiesces', () => {
    const s0 = caughtUp();
    expect(s0.localRoots.config.size).toBe(4);
    const r = step(s0, [useBootstrap, tooOld], 100_000, rng());
    const t = types(r);
    expect(t.slice(0, 3)).toEqual(['UseBootstrapPeersChanged', 'LedgerStateJudgementChanged', 'EnterSensitiveState']);
    // Every peer was cold: the zero known target forgets them all at once, then the system is quiet.
    expect(t).toContain('OnlyBootstrapPeers');
    // ... and after the resumption only the trustable local roots are known again.
    expect([...r.state.known.keys()].sort()).toEqual(['trusted:1', 'trusted:2']);
    expect(r.state.hasOnlyBootstrapPeers).toBe(true);
    expect(r.state.bootstrapPeersTimeout).toBeUndefined();
    expect(r.state.progressEnabled).toBe(false);
    expect(requiresBootstrapPeers(r.state)).toBe(true);
    // Targets and local roots resumed after the quiescence, local roots clamped to trustable ones.
    expect(t.indexOf('OnlyBootstrapPeers')).toBeLessThan(t.lastIndexOf('TargetsChanged'));
    expect(r.state.targets).toEqual(T);
    expect([...r.state.localRoots.config.keys()].sort()).toEqual(['trusted:1', 'trusted:2']);
    // Root peers are asked for at once (the transition resets the request backoff), from the bootstrap peers.
    expect(r.jobs.find((j) => j.kind === 'rootPeers')).toMatchObject({ bootstrap: true });
    for (const j of r.jobs) if (j.kind === 'connect' || j.kind === 'activate') expect(j.peer).toMatch(/^trusted:/);
    expect(checkInvariants(r.state, DEFAULT_POLICY)).toEqual([]);
  });

  it('the monitors stay paused while a promotion of an untrusted peer is in flight; its failure completes the quiescence', () => {
    const s0 = caughtUp();
    s0.inProgressPromoteCold.add('ledger:1');
    let r = step(s0, [useBootstrap, tooOld], 100_000, rng());
    expect(r.state.targets).toEqual(ZERO_TARGETS);
    expect(r.state.localRoots.config.size).toBe(0);
    expect(r.state.hasOnlyBootstrapPeers).toBe(false);
    expect(r.state.bootstrapPeersTimeout).toBe(100_000 + BOOTSTRAP_PEERS_TIMEOUT_MS);
    expect(r.wakeupAt).toBeLessThanOrEqual(100_000 + BOOTSTRAP_PEERS_TIMEOUT_MS);
    // The churn writes new targets: ignored until only trusted peers are left.
    r = step(r.state, [{ kind: 'targets', targets: { ...T, active: 1 } }], 101_000, rng());
    expect(r.state.targets).toEqual(ZERO_TARGETS);
    expect(types(r)).not.toContain('TargetsChanged');
    r = step(
      r.state,
      [done({ kind: 'connect', jobId: 999, peer: 'ledger:1', ok: false, error: 'refused' })],
      102_000,
      rng(),
    );
    const t = types(r);
    expect(t).toContain('OnlyBootstrapPeers');
    expect(t).toContain('TargetsChanged');
    expect(r.state.known.has('ledger:1')).toBe(false);
    expect(r.state.targets).toEqual({ ...T, active: 1 });
    // Only the trustable local roots are known now, and only they are being dialled.
    expect([...r.state.known.keys()].sort()).toEqual(['trusted:1', 'trusted:2']);
    for (const j of r.jobs) if (j.kind === 'connect') expect(j.peer).toMatch(/^trusted:/);
  });

  it('a local root that stops being trustable while sensitive forces the clean-state protocol again', () => {
    const r0 = step(caughtUp(), [useBootstrap, tooOld], 100_000, rng());
    expect(r0.state.hasOnlyBootstrapPeers).toBe(true);
    expect(r0.state.known.has('trusted:1')).toBe(true);
    const distrust: LocalRootGroupConfig[] = [
      { hotValency: 1, peers: [{ peer: 'trusted:1' }, { peer: 'trusted:2', config: { trustable: true } }] },
    ];
    const r = step(r0.state, [{ kind: 'localRoots', groups: distrust }], 200_000, rng());
    const t = types(r);
    const i = t.indexOf('LocalRootPeersChanged');
    expect(t.slice(i, i + 4)).toEqual([
      'LocalRootPeersChanged',
      'LedgerStateJudgementChanged',
      'LedgerStateJudgementChanged',
      'EnterSensitiveState',
    ]);
    expect(
      r.state.bootstrapPeersTimeout === undefined ||
        r.state.bootstrapPeersTimeout === 200_000 + BOOTSTRAP_PEERS_TIMEOUT_MS,
    ).toBe(true);
    expect(requiresBootstrapPeers(r.state)).toBe(true);
    expect(r.state.targets).toEqual(ZERO_TARGETS);
    expect(r.state.bootstrapPeersTimeout).toBe(200_000 + BOOTSTRAP_PEERS_TIMEOUT_MS);
    // The jobs of the first resumption (bootstrap root request, dials of the local roots) finish:
    // quiet again; only trusted:2 is a local root, trusted:1 is forgotten.
    const finished: Input[] = r0.jobs.flatMap((j): Input[] =>
      j.kind === 'rootPeers'
        ? [done({ kind: 'rootPeers', jobId: j.id, ok: true, peers: [], ttlMs: 60_000 })]
        : j.kind === 'connect'
          ? [done({ kind: 'connect', jobId: j.id, peer: j.peer, ok: false, error: 'refused' })]
          : [],
    );
    expect(finished.length).toBeGreaterThan(0);
    const q = step(r.state, finished, 201_000, rng());
    expect(q.state.hasOnlyBootstrapPeers).toBe(true);
    expect(q.state.known.has('trusted:1')).toBe(false);
    expect([...q.state.localRoots.config.keys()]).toEqual(['trusted:2']);
    expect(checkInvariants(q.state, DEFAULT_POLICY)).toEqual([]);
    expect(checkInvariants(r.state, DEFAULT_POLICY)).toEqual([]);
  });

  it('root-peer requests in the sensitive state ask for bootstrap peers; other results are ignored', () => {
    const r0 = step(initialState(0), [useBootstrap, tooOld, { kind: 'targets', targets: T }], 0, rng());
    const s = r0.state;
    const job = r0.jobs.find((j) => j.kind === 'rootPeers');
    expect(job).toMatchObject({ kind: 'rootPeers', count: 3, bootstrap: true });
    const r = step(
      s,
      [
        done({
          kind: 'rootPeers',
          jobId: job?.id ?? 0,
          ok: true,
          ttlMs: 60_000,
          peers: [
            { peer: 'boot:1', kind: 'bootstrap', advertise: false },
            { peer: 'ledger:9', kind: 'ledger', advertise: false },
          ],
        }),
      ],
      1000,
      rng(),
    );
    expect(r.state.known.has('boot:1')).toBe(true);
    expect(r.state.known.has('ledger:9')).toBe(false);
    expect(r.state.publicRoots.extra.get('boot:1')).toEqual({ advertise: false, bootstrap: true });
    // Caught up: requests are ordinary again.
    const off = step(initialState(0), [{ kind: 'targets', targets: T }], 0, rng());
    expect(off.jobs.find((j) => j.kind === 'rootPeers')).not.toHaveProperty('bootstrap');
  });

  it('no peer sharing, big ledger peers or inbound peers while sensitive (progress disabled)', () => {
    const s = step(
      initialState(0),
      [useBootstrap, tooOld, { kind: 'targets', targets: { ...T, knownBigLedger: 5 } }],
      0,
      rng(),
    ).state;
    insertKnown(s, 'boot:1', { origin: 'bootstrap' });
    s.publicRoots.extra.set('boot:1', { advertise: false, bootstrap: true });
    insertEstablished(s, 'boot:1', true, DEFAULT_POLICY);
    s.nextShare.delete('boot:1');
    s.availableForShare.add('boot:1');
    const r = step(s, [{ kind: 'inboundPeers', peers: [['inbound:1', true]] }], 500_000, rng());
    for (const j of r.jobs) expect(['peerShare', 'bigLedgerPeers']).not.toContain(j.kind);
    expect(r.state.known.has('inbound:1')).toBe(false);
  });

  it('the deadline yields a critical error exactly when due, and keeps yielding it', () => {
    const s0 = caughtUp();
    s0.inProgressPromoteCold.add('ledger:1'); // a dial that never completes
    const r = step(s0, [useBootstrap, tooOld], 100_000, rng());
    const due = 100_000 + BOOTSTRAP_PEERS_TIMEOUT_MS;
    let s = r.state;
    for (const t of [500_000, due - 0.001]) {
      const x = step(s, [], t, rng());
      expect(x.critical).toBeUndefined();
      expect(x.wakeupAt).toBeLessThanOrEqual(due);
      s = x.state;
    }
    const x = step(s, [], due, rng());
    expect(x.critical).toEqual({ kind: 'BootstrapPeersCriticalTimeoutError', deadline: due });
    expect(x.jobs).toEqual([]);
    expect(types(x)).toEqual(['BootstrapPeersCriticalTimeoutError']);
    expect(step(x.state, [], due + 5000, rng()).critical?.deadline).toBe(due);
  });

  it('leaving (young enough) forgets non-established bootstrap peers and restores all local roots', () => {
    let s = step(
      initialState(0),
      [useBootstrap, tooOld, { kind: 'targets', targets: T }, { kind: 'localRoots', groups: LOCAL }],
      0,
      rng(),
    ).state;
    s.inProgressPromoteCold.clear();
    s.inProgressPublicRootsReq = false;
    s.publicRootRetryTime = 1e9;
    for (const p of ['boot:1', 'boot:2', 'boot:3']) {
      insertKnown(s, p, { origin: 'bootstrap' });
      s.publicRoots.extra.set(p, { advertise: false, bootstrap: true });
    }
    insertEstablished(s, 'boot:1', false, DEFAULT_POLICY);
    s.inProgressPromoteCold.add('boot:3');
    const r = step(s, [young], 10_000, rng());
    expect(types(r)).toContain('LeaveSensitiveState');
    s = r.state;
    expect(s.known.has('boot:1')).toBe(true);
    expect(s.known.has('boot:2')).toBe(false);
    expect(s.publicRoots.extra.has('boot:2')).toBe(false);
    expect(s.known.has('boot:3')).toBe(true);
    expect(s.progressEnabled).toBe(true);
    expect(s.bootstrapPeersTimeout).toBeUndefined();
    expect(s.localRoots.config.size).toBe(4);
    expect(checkInvariants(s, DEFAULT_POLICY)).toEqual([]);
  });

  it('disabling bootstrap peers while sensitive leaves the state; enabling them again re-enters it', () => {
    const s = step(initialState(0), [useBootstrap, tooOld, { kind: 'targets', targets: T }], 0, rng()).state;
    insertKnown(s, 'boot:1', { origin: 'bootstrap' });
    s.publicRoots.extra.set('boot:1', { advertise: false, bootstrap: true });
    const r = step(s, [{ kind: 'useBootstrapPeers', enabled: false }], 5000, rng());
    expect(types(r)[0]).toBe('UseBootstrapPeersChanged');
    expect(requiresBootstrapPeers(r.state)).toBe(false);
    // The reference installs `youngEnough` with the flag (the judgement is not watched without bootstrap peers).
    expect(r.state.ledgerStateJudgement).toBe('youngEnough');
    expect(r.state.known.has('boot:1')).toBe(false);
    expect(r.state.progressEnabled).toBe(true);
    expect(r.state.bootstrapPeersTimeout).toBeUndefined();
    // Enabling them again while still behind re-enters the sensitive state through the judgement monitor.
    const again = step(r.state, [useBootstrap], 6000, rng());
    expect(types(again).slice(0, 3)).toEqual([
      'UseBootstrapPeersChanged',
      'LedgerStateJudgementChanged',
      'EnterSensitiveState',
    ]);
    expect(requiresBootstrapPeers(again.state)).toBe(true);
  });
});

describe('Genesis mode and association mode (§2.9)', () => {
  it('switches between deadline and sync targets on judgement changes; bootstrap peers play no part', () => {
    let r = step(
      initialState(0),
      [{ kind: 'consensusMode', mode: 'genesis' }, useBootstrap, tooOld, { kind: 'targets', targets: T }],
      0,
      rng(),
    );
    expect(r.state.targets).toEqual(SYNC_DEFAULT_TARGETS);
    expect(requiresBootstrapPeers(r.state)).toBe(false);
    expect(r.state.progressEnabled).toBe(true);
    r = step(r.state, [young], 10_000, rng());
    expect(r.state.targets).toEqual(T);
    const sync = { ...SYNC_DEFAULT_TARGETS, active: 3 };
    r = step(r.state, [{ kind: 'syncTargets', targets: sync }, tooOld], 20_000, rng());
    expect(r.state.targets).toEqual(sync);
    expect(cardanoStatus(r.state, DEFAULT_POLICY)).toMatchObject({
      consensusMode: 'genesis',
      ledgerStateJudgement: 'tooOld',
      sensitive: false,
    });
  });

  it('association mode: local roots only without ledger peers, peer sharing and bootstrap peers', () => {
    const s = initialState(0);
    const noSharing = { ...DEFAULT_POLICY, peerSharing: false };
    expect(associationMode(s, DEFAULT_POLICY)).toBe('unrestricted');
    expect(associationMode(s, noSharing)).toBe('unrestricted'); // ledger peers still on
    const r = step(
      s,
      [
        { kind: 'useLedgerPeers', enabled: false },
        { kind: 'localRoots', groups: LOCAL },
      ],
      0,
      rng(),
      {
        policy: noSharing,
      },
    );
    expect(cardanoStatus(r.state, noSharing).associationMode).toBe('localRootsOnly');
    // Nothing established: vacuously only trustable local roots (the reference's subset test).
    expect(cardanoStatus(r.state, noSharing).outboundConnectionsState).toBe('trusted');
    const withUntrusted = step(r.state, [], 500, rng(), { policy: noSharing }).state;
    insertEstablished(withUntrusted, 'untrusted:1', false, noSharing);
    expect(cardanoStatus(withUntrusted, noSharing).outboundConnectionsState).toBe('untrusted');
    const s2 = step(r.state, [useBootstrap], 1000, rng(), { policy: noSharing }).state;
    expect(cardanoStatus(s2, noSharing).associationMode).toBe('unrestricted');
  });

  it('node config: ConsensusMode and SyncTargetNumberOf* keys', () => {
    // Read through the one node-config module (src/config), as the dry run does.
    const read = (doc: Record<string, unknown>) => nodeConfigFromDocument(doc, 'config.json');
    const c = read({ ConsensusMode: 'GenesisMode', SyncTargetNumberOfActivePeers: 7 });
    expect(c.consensusMode).toBe('genesis');
    expect(c.syncTargets).toEqual({ ...SYNC_DEFAULT_TARGETS, active: 7 });
    expect(read({ ConsensusMode: 'PraosMode' }).consensusMode).toBe('praos');
    expect(read({}).given.has('ConsensusMode')).toBe(false);
    expect(read({}).consensusMode).toBe('praos');
  });
});
