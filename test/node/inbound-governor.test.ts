/** The inbound governor core: remote states from responder activity, and fresh/mature duplex peers (governor.md §10). */
import { describe, expect, it } from 'vitest';
import type { ConnId } from '../../src/node/connection-manager/core.js';
import {
  type CmPort,
  connectionClosed,
  deriveIgCounters,
  type IgOut,
  initialIgState,
  MATURE_PEER_DELAY,
  newConnection,
  responderStarted,
  responderTerminated,
  wakeup,
} from '../../src/node/inbound-governor/core.js';

function port(calls: string[]): CmPort {
  return {
    promotedToWarmRemote: (c: ConnId) => {
      calls.push(`warm ${c}`);
      return 'ok';
    },
    demotedToColdRemote: (c: ConnId) => {
      calls.push(`cold ${c}`);
      return 'ok';
    },
    releaseInbound: (c: ConnId) => {
      calls.push(`release ${c}`);
      return 'commit';
    },
  };
}

describe('inbound governor core', () => {
  it('follows the remote: idle, warm, hot, warm, idle, with the connection manager told', () => {
    const s = initialIgState();
    const out: IgOut = { actions: [], trace: [] };
    const calls: string[] = [];
    const cm = port(calls);
    newConnection(s, 0, { conn: 1, peer: 'p', provenance: 'inbound', dataFlow: 'duplex' }, out);
    newConnection(s, 10, { conn: 1, peer: 'p', provenance: 'inbound', dataFlow: 'duplex' }, out); // repeat: ignored
    responderStarted(s, 100, 1, false, cm, out);
    responderStarted(s, 200, 1, true, cm, out);
    expect(s.counters).toEqual({ idle: 0, cold: 0, warm: 0, hot: 1 });
    responderTerminated(s, 300, 1, true, true, cm, out);
    responderTerminated(s, 400, 1, false, true, cm, out);
    const tr = out.trace.flatMap((t) => (t.type === 'remoteTransition' ? [`${t.from}>${t.to}@${t.at}`] : []));
    expect(tr).toEqual([
      'null>RemoteIdle@0',
      'RemoteIdle>RemoteWarm@100',
      'RemoteWarm>RemoteHot@200',
      'RemoteHot>RemoteWarm@300',
      'RemoteWarm>RemoteIdle@400',
    ]);
    expect(calls).toEqual(['warm 1', 'cold 1']);
    // the idle timers asked for: 5 s after the connection, 5 s after it went idle again
    expect(out.actions.filter((a) => a.type === 'armTimer').map((a) => (a.type === 'armTimer' ? a.at : 0))).toEqual([
      5_000, 5_400,
    ]);
    expect(deriveIgCounters(s)).toEqual(s.counters);
  });

  it('a responder start seen after the idle timer expired waits for the commit first (§10.3)', () => {
    const s = initialIgState();
    const out: IgOut = { actions: [], trace: [] };
    const calls: string[] = [];
    newConnection(s, 0, { conn: 1, peer: 'p', provenance: 'inbound', dataFlow: 'unidirectional' }, out);
    responderStarted(s, 5_000, 1, false, port(calls), out);
    expect(calls).toEqual(['release 1']);
    expect(s.conns.size).toBe(0);
  });

  it('duplex peers mature after 15 minutes (the wake-up runs maturation); none are lost, none mature early', () => {
    const s = initialIgState();
    const out: IgOut = { actions: [], trace: [] };
    newConnection(s, 0, { conn: 1, peer: 'a', provenance: 'inbound', dataFlow: 'duplex' }, out);
    newConnection(s, 60_000, { conn: 2, peer: 'b', provenance: 'outbound', dataFlow: 'duplex' }, out);
    newConnection(s, 60_000, { conn: 3, peer: 'c', provenance: 'inbound', dataFlow: 'unidirectional' }, out);
    expect([...s.fresh.keys()]).toEqual(['a', 'b']);
    // follow the wake-ups the core asks for
    let now = 60_000;
    while (s.mature.size < 2) {
      const w = [...out.actions].reverse().find((a) => a.type === 'armWakeup');
      if (w?.type !== 'armWakeup') throw new Error('no wake-up armed');
      now = w.at;
      expect(now - (s.wakeupAt ?? 0)).toBeLessThanOrEqual(0);
      wakeup(s, now, out);
      for (const [, since] of s.fresh) expect(now - since).toBeLessThan(MATURE_PEER_DELAY);
      expect(s.fresh.size + s.mature.size).toBe(2);
    }
    expect([...s.mature].sort()).toEqual(['a', 'b']);
    expect(now).toBeGreaterThanOrEqual(60_000 + MATURE_PEER_DELAY);
    expect(now).toBeLessThan(60_000 + MATURE_PEER_DELAY + 31_416);
    // a peer whose connections are gone is forgotten
    connectionClosed(s, now, 1, out);
    expect([...s.mature]).toEqual(['b']);
  });
});
