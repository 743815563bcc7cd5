/**
 * The connection manager's shell on loopback TCP: dial and handshake through the manager, reuse of
 * an inbound duplex connection for an outbound need (one socket carrying both directions), the
 * outbound release and the idle timeouts closing everything, every traced transition valid by the
 * oracle and every connection ending.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { LiveNode } from './live.js';

// The idle timeout must outlast the gap between a handshake and the first keep-alive even on a
// loaded machine (a remote idle past it is closed, and the test's story changes): 1.5 s.
const FAST = { protocolIdleTimeout: 1_500, timeWaitTimeout: 300, handshakeTimeout: 5_000 };
// The 1.1x timeout check needs virtual time (test/node/shell-sim.test.ts): on a loaded machine real
// timers fire late, so the loopback tests check transitions, chains and counters only.
const TIMEOUTS = undefined;
const nodes: LiveNode[] = [];
const node = async (o: ConstructorParameters<typeof LiveNode>[0] = {}): Promise<LiveNode> => {
  const n = await new LiveNode({ ...FAST, ...o }).start();
  nodes.push(n);
  return n;
};
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

describe('connection manager shell (loopback)', () => {
  it('dials, negotiates duplex, and the other side reuses the inbound connection: one socket each, both directions', async () => {
    const a = await node();
    const b = await node();
    const got = await b.cm.acquireOutbound(a.address);
    if (got.kind !== 'connected') throw new Error(`acquire: ${JSON.stringify(got)}`);
    expect(got.reused).toBe(false);
    expect(got.dataFlow).toBe('duplex');
    // b uses it: a's keep-alive responder starts, a sees the remote warm
    await got.connection.keepAlive(1, 2000);
    await a.until(() => a.cm.counters()['inboundGovernor.warm'] === 1);
    expect(a.cm.counters()['connectionManager.inboundConns']).toBe(1);

    // a wants b as an outbound peer: the inbound duplex connection is reused (PromotedToWarm^Dup_Local)
    const inboundPeer = [...a.cm.state.cm.byPeer.keys()][0] as string;
    const back = await a.cm.acquireOutbound(inboundPeer);
    if (back.kind !== 'connected') throw new Error(`reuse: ${JSON.stringify(back)}`);
    expect(back.reused).toBe(true);
    expect(a.cm.connState(back.conn)).toBe('Duplex');
    expect(await back.connection.keepAlive(2, 2000)).toBeGreaterThanOrEqual(0);
    expect(a.cm.sockets).toBe(1);
    expect(b.cm.sockets).toBe(1);
    expect(a.cm.counters()['connectionManager.fullDuplexConns']).toBe(1);

    // both give it back and stop using it: the idle timeouts close it, TIME_WAIT ends, nothing is left
    await got.connection.keepAliveClient.done();
    await back.connection.keepAliveClient.done();
    expect(a.cm.releaseOutbound(back.conn)).toBe('ok');
    expect(b.cm.releaseOutbound(got.conn)).toBe('ok');
    await Promise.all([a.quiet(), b.quiet()]);
    const end = systemClock.now();
    expect(a.oracle(TIMEOUTS, end)).toEqual([]);
    expect(b.oracle(TIMEOUTS, end)).toEqual([]);
    expect(a.cmTransitions.map((t) => t.to)).toContain('Duplex');
    expect(a.cmTransitions.at(-1)?.to).toBe('Unknown');
  });

  it('a refused dial answers disconnected with the connect error as its cause; acquire twice = ConnectionExists', async () => {
    const a = await node();
    const b = await node({ listen: false });
    // a port nothing listens on: take a's and close a
    const dead = a.address;
    await a.stop();
    const r = await b.cm.acquireOutbound(dead);
    expect(r).toMatchObject({ kind: 'disconnected', reason: 'ConnectFailed' });
    expect(r.kind === 'disconnected' && (r.cause as { code?: string } | undefined)?.code).toBe('CONNECT_REFUSED');

    const c = await node();
    const first = b.cm.acquireOutbound(c.address);
    expect(await b.cm.acquireOutbound(c.address)).toEqual({ kind: 'error', error: 'ConnectionExists' });
    const ok = await first;
    expect(ok.kind).toBe('connected');
    if (ok.kind === 'connected') {
      b.cm.releaseOutbound(ok.conn);
      await b.cm.waitForOutboundDemotion(ok.conn);
    }
    await Promise.all([b.quiet(), c.quiet()]);
    expect(b.oracle(TIMEOUTS, systemClock.now())).toEqual([]);
    expect(c.oracle(TIMEOUTS, systemClock.now())).toEqual([]);
  });

  it('a handshake refusal (wrong magic) is traced with why, goes through TIME_WAIT and ends', async () => {
    const a = await node();
    const b = await node({ listen: false, magic: 764824073 });
    const refused = new Promise<string>((resolve) =>
      a.cm.on('handshake', (h) => {
        if (h.outcome === 'refused') resolve(JSON.stringify(h.refusal));
      }),
    );
    const r = await b.cm.acquireOutbound(a.address);
    expect(r.kind).toBe('disconnected');
    expect(r.kind === 'disconnected' && (r.cause as { code?: string } | undefined)?.code).toBe(
      'HANDSHAKE_REFUSED_MAGIC',
    );
    expect(await refused).toMatch(/764824073/);
    await Promise.all([a.quiet(), b.quiet()]);
    expect(a.cmTransitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      'Unknown>UnnegotiatedIn',
      'UnnegotiatedIn>Terminating',
      'Terminating>Terminated',
      'Terminated>Unknown',
    ]);
    expect(a.oracle(TIMEOUTS, systemClock.now())).toEqual([]);
  });
});
