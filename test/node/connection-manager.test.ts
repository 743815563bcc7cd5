/**
 * Unit cases of the connection manager core (with the inbound governor composed, as in the node):
 * the reference's named unit tests `Overwritten` and `TimeoutExpired` (governor.md §12.2), the
 * answers of acquireOutbound (§8.4), the timers, the hard-limit re-check and pruning's preference
 * for purely inbound connections (§8.5).
 */
import { describe, expect, it } from 'vitest';
import { defaultCmConfig, holdsOutbound, peerState } from '../../src/node/connection-manager/core.js';
import { validCmTransition } from '../../src/node/transitions.js';
import { Driver } from './driver.js';

const ME = '10.0.0.1:3001';
const P = '10.0.0.2:3001';
const Q = '10.0.0.3:3001';
const R = '10.0.0.4:3001';

function allValid(d: Driver): void {
  for (const t of d.cmTrace)
    if (t.type === 'transition') expect(validCmTransition(t.from, t.to), `${t.from}>${t.to}`).toBe(true);
  expect(d.counterErrors).toEqual([]);
  expect(d.cmTrace.filter((t) => t.type === 'unexpected')).toEqual([]);
}

describe('connection manager core', () => {
  it('Overwritten: an accept from the peer replaces the reservation, the dial then fails, the inbound connection lives on', () => {
    const d = new Driver(defaultCmConfig(ME));
    const r = d.step({ type: 'acquireOutbound', peer: P });
    expect(r.result).toMatchObject({ kind: 'pending' });
    const dial = d.last('connect');
    expect(dial.bindLocal).toBe(ME); // bound to the listening address (duplex mode)
    const inc = d.step({ type: 'accepted', peer: P, sock: 'i1' });
    expect(inc.result).toEqual({ kind: 'included', conn: dial.conn });
    d.step({ type: 'connectFailed', conn: dial.conn, sock: dial.sock });
    expect(d.answers.get(1)).toEqual({ kind: 'disconnected', conn: dial.conn, reason: 'ConnectFailed' });
    d.step({ type: 'handshakeDone', conn: dial.conn, sock: 'i1', dataFlow: 'duplex' });
    expect(d.transitions()).toEqual([
      'Unknown>ReservedOutbound',
      'ReservedOutbound>UnnegotiatedIn',
      'UnnegotiatedIn>InboundIdleDup',
    ]);
    expect(d.actions).toContainEqual({
      type: 'newConnection',
      conn: dial.conn,
      peer: P,
      provenance: 'inbound',
      dataFlow: 'duplex',
    });
    // nobody uses it: the inbound governor's idle timer commits it, TIME_WAIT, gone
    d.run();
    expect(d.transitions().slice(3)).toEqual([
      'InboundIdleDup>Terminating',
      'Terminating>Terminated',
      'Terminated>Unknown',
    ]);
    expect(d.remote()).toEqual(['null>RemoteIdle', 'RemoteIdle>null']);
    expect(d.sched.now()).toBe(5_000 + 60_000);
    allValid(d);
  });

  it('TimeoutExpired: an outbound side reusing an inbound duplex connection outlives the remote idle timer', () => {
    const d = new Driver(defaultCmConfig(ME));
    let conn = 0;
    d.at(0, () => {
      conn = d.inbound(P, 'i1');
    });
    d.at(1_000, () => {
      const r = d.step({ type: 'acquireOutbound', peer: P });
      expect(r.result).toEqual({ kind: 'connected', conn, dataFlow: 'duplex' }); // Awake^Dup_Local
    });
    d.at(10_000, () => {
      expect(d.step({ type: 'releaseOutbound', conn }).result).toBe('ok');
    });
    d.run();
    expect(d.transitions(conn)).toEqual([
      'Unknown>UnnegotiatedIn',
      'UnnegotiatedIn>InboundIdleDup',
      'InboundIdleDup>OutboundDupTicking',
      'OutboundDupTicking>OutboundDupExpired', // at 5 s: the remote never used it
      'OutboundDupExpired>OutboundIdleDup', // at 10 s: released
      'OutboundIdleDup>Terminating', // at 15 s: outbound idle timeout
      'Terminating>Terminated', // at 75 s
      'Terminated>Unknown',
    ]);
    const at = d.cmTrace.flatMap((t) => (t.type === 'transition' ? [t.at] : []));
    expect(at).toEqual([0, 0, 1_000, 5_000, 10_000, 15_000, 75_000, 75_000]);
    expect(d.remote(conn)).toEqual(['null>RemoteIdle', 'RemoteIdle>RemoteCold', 'RemoteCold>null']);
    // the close is an RST
    expect(d.actions.filter((a) => a.type === 'closeSocket')).toEqual([
      { type: 'closeSocket', conn, sock: 'i1', reset: true },
    ]);
    allValid(d);
  });

  it('answers acquireOutbound as §8.4 says', () => {
    const d = new Driver(defaultCmConfig(ME));
    const out = d.outbound(P);
    expect(d.step({ type: 'acquireOutbound', peer: P }).result).toEqual({ kind: 'error', error: 'ConnectionExists' });
    d.step({ type: 'timer', conn: out, timer: 'inboundIdle' }); // not yet due: ignored
    d.run(5_000); // remote idle timer: Ticking -> Expired
    expect(peerState(d.state.cm, P)).toBe('OutboundDupExpired');
    d.step({ type: 'releaseOutbound', conn: out });
    expect(peerState(d.state.cm, P)).toBe('OutboundIdleDup');
    expect(d.step({ type: 'acquireOutbound', peer: P }).result).toEqual({ kind: 'error', error: 'ForbiddenOperation' });
    d.inbound(Q, 'i1', 'unidirectional');
    expect(d.step({ type: 'acquireOutbound', peer: Q }).result).toEqual({
      kind: 'error',
      error: 'ForbiddenConnection',
    });
    // P goes through TIME_WAIT; an acquire waits for it and then dials afresh
    d.run(10_000);
    expect(peerState(d.state.cm, P)).toBe('Terminating');
    const w = d.step({ type: 'acquireOutbound', peer: P }).result;
    expect(w).toMatchObject({ kind: 'pending' });
    const dials = d.actions.filter((a) => a.type === 'connect').length;
    d.run(70_000);
    expect(peerState(d.state.cm, P)).toBe('ReservedOutbound');
    expect(d.actions.filter((a) => a.type === 'connect').length).toBe(dials + 1);
    allValid(d);
  });

  it('a handshake that never ends is cut at 10 s; a refused one goes through TIME_WAIT', () => {
    const d = new Driver(defaultCmConfig(ME));
    d.step({ type: 'acquireOutbound', peer: P });
    const c = d.last('connect');
    d.step({ type: 'connected', conn: c.conn, sock: c.sock });
    expect(d.last('startHandshake')).toEqual({
      type: 'startHandshake',
      conn: c.conn,
      sock: c.sock,
      provenance: 'outbound',
    });
    d.run(20_000);
    expect(d.transitions(c.conn)).toEqual([
      'Unknown>ReservedOutbound',
      'ReservedOutbound>UnnegotiatedOut',
      'UnnegotiatedOut>Terminated',
      'Terminated>Unknown',
    ]);
    expect(d.cmTrace.find((t) => t.type === 'transition' && t.to === 'Terminated')?.at).toBe(10_000);
    expect(d.answers.get(1)).toEqual({ kind: 'disconnected', conn: c.conn, reason: 'HandshakeTimeout' });
    const r = d.step({ type: 'accepted', peer: Q, sock: 'i9' });
    const conn = r.result && typeof r.result === 'object' && r.result.kind === 'included' ? r.result.conn : -1;
    d.step({ type: 'handshakeFailed', conn, sock: 'i9', failure: 'refused' });
    expect(d.transitions(conn)).toEqual(['Unknown>UnnegotiatedIn', 'UnnegotiatedIn>Terminating']);
    d.run();
    expect(d.transitions(conn).slice(2)).toEqual(['Terminating>Terminated', 'Terminated>Unknown']);
    allValid(d);
  });

  it('re-checks the hard limit when an accepted socket is included', () => {
    const d = new Driver(defaultCmConfig(ME, 2));
    d.inbound(P, 'i1');
    d.inbound(Q, 'i2');
    const r = d.step({ type: 'accepted', peer: R, sock: 'i3' });
    expect(r.result).toEqual({ kind: 'refused' });
    expect(d.last('closeSocket')).toEqual({ type: 'closeSocket', conn: undefined, sock: 'i3', reset: true });
    expect(d.state.cm.counters.inboundConns).toBe(2);
    allValid(d);
  });

  it('self connection: SelfConn transitions, one entry, usable outbound', () => {
    const d = new Driver(defaultCmConfig(ME));
    d.step({ type: 'acquireOutbound', peer: ME });
    const c = d.last('connect');
    d.step({ type: 'connected', conn: c.conn, sock: c.sock });
    d.step({ type: 'accepted', peer: ME, sock: 'i1' }); // our own dial, seen by our server
    d.step({ type: 'handshakeDone', conn: c.conn, sock: 'i1', dataFlow: 'duplex' }); // the responder side ends first
    d.step({ type: 'handshakeDone', conn: c.conn, sock: c.sock, dataFlow: 'duplex' });
    expect(d.transitions()).toEqual([
      'Unknown>ReservedOutbound',
      'ReservedOutbound>UnnegotiatedOut',
      'UnnegotiatedOut>UnnegotiatedIn', // SelfConn
      'UnnegotiatedIn>InboundIdleDup',
      'InboundIdleDup>OutboundDupTicking', // SelfConn^-1
    ]);
    expect(d.answers.get(1)).toEqual({ kind: 'connected', conn: c.conn, dataFlow: 'duplex' });
    allValid(d);
  });
});

describe('pruning above the hard limit (§8.5)', () => {
  /** Two purely inbound connections at the limit, then an outbound duplex one the remote starts using. */
  function scenario(seed: number) {
    const d = new Driver(defaultCmConfig(ME, 2), seed);
    const a = d.inbound(P, 'i1');
    const b = d.inbound(Q, 'i2');
    const out = d.outbound(R);
    d.step({ type: 'responderStarted', conn: out, hot: false }); // PromotedToWarm^Dup_Remote: -> Duplex
    const prune = d.cmTrace.find((t) => t.type === 'prune');
    return { d, a, b, out, prune };
  }

  it('prunes a purely inbound connection, at random, never the upstream (duplex) one', () => {
    const picked = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { d, a, b, out, prune } = scenario(seed);
      expect(prune).toMatchObject({ type: 'prune', count: 1 });
      if (prune?.type !== 'prune') throw new Error('no prune');
      expect(prune.candidates.sort()).toEqual([a, b, out].sort());
      expect(prune.pruned).toHaveLength(1);
      expect(prune.pruned).not.toContain(out);
      picked.add(prune.pruned[0] as number);
      expect(peerState(d.state.cm, R)).toBe('Duplex');
      expect(d.state.cm.counters.inboundConns).toBe(2);
      // the pruned connection is reset without TIME_WAIT and the inbound governor forgets it
      const victim = prune.pruned[0] as number;
      expect(d.transitions(victim).slice(-2)).toEqual(['InboundIdleDup>Terminated', 'Terminated>Unknown']);
      expect(d.remote(victim)).toEqual(['null>RemoteIdle', 'RemoteIdle>null']);
      allValid(d);
    }
    expect(picked.size).toBe(2); // both purely inbound connections get picked, depending on the seed
  });

  it('the transitioning connection may itself be pruned', () => {
    const d = new Driver(defaultCmConfig(ME, 1));
    // P: an inbound duplex connection we reuse and the remote uses too (Duplex, upstream)
    const p = d.inbound(P, 'i1');
    d.step({ type: 'acquireOutbound', peer: P });
    d.step({ type: 'responderStarted', conn: p, hot: false });
    expect(peerState(d.state.cm, P)).toBe('Duplex');
    // R: outbound duplex, released while the remote's idle timer still runs: it would become inbound
    const r = d.outbound(R);
    expect(d.step({ type: 'releaseOutbound', conn: r }).result).toBe('ok');
    const prune = d.cmTrace.find((t) => t.type === 'prune');
    expect(prune).toMatchObject({ pruned: [r], count: 1 });
    expect(d.transitions(r).slice(-2)).toEqual(['OutboundDupTicking>Terminated', 'Terminated>Unknown']);
    expect(peerState(d.state.cm, P)).toBe('Duplex');
    allValid(d);
  });
});

describe('TIME_WAIT and waiting acquirers', () => {
  it('a new inbound connection from a peer in TIME_WAIT gets a fresh entry; an acquire blocked on the old one then reuses the new one', () => {
    const d = new Driver(defaultCmConfig(ME));
    const old = d.inbound(P, 'i1');
    d.run(5_000); // idle: committed, TIME_WAIT until 65 s
    expect(peerState(d.state.cm, P)).toBe('Terminating');
    const w = d.step({ type: 'acquireOutbound', peer: P }).result;
    expect(w).toMatchObject({ kind: 'pending', req: 1 });
    d.at(6_000, () => {
      const fresh = d.inbound(P, 'i2');
      expect(fresh).not.toBe(old);
      d.step({ type: 'responderStarted', conn: fresh, hot: false }); // the remote uses it: InboundDup
    });
    d.run(70_000);
    const fresh = d.state.cm.byPeer.get(P) as number;
    // the old entry ended its own TIME_WAIT; the waiting acquire then took the new connection
    expect(d.transitions(old).slice(-2)).toEqual(['Terminating>Terminated', 'Terminated>Unknown']);
    expect(d.answers.get(1)).toEqual({ kind: 'connected', conn: fresh, dataFlow: 'duplex' });
    expect(d.transitions(fresh)).toEqual([
      'Unknown>UnnegotiatedIn',
      'UnnegotiatedIn>InboundIdleDup',
      'InboundIdleDup>InboundDup',
      'InboundDup>Duplex', // PromotedToWarm^Dup_Local, at 65 s
    ]);
    allValid(d);
  });

  it('holdsOutbound (waitForOutboundDemotion) stays true through outbound idle and TIME_WAIT', () => {
    const d = new Driver(defaultCmConfig(ME));
    const c = d.outbound(Q, 'unidirectional');
    expect(holdsOutbound(d.state.cm, c)).toBe(true);
    d.step({ type: 'releaseOutbound', conn: c });
    expect(holdsOutbound(d.state.cm, c)).toBe(true); // OutboundIdle
    d.run(5_000);
    expect(peerState(d.state.cm, Q)).toBe('Terminating');
    expect(holdsOutbound(d.state.cm, c)).toBe(true);
    d.run();
    expect(holdsOutbound(d.state.cm, c)).toBe(false);
    expect(d.sched.now()).toBe(65_000);
    allValid(d);
  });
});
