/**
 * Duplex reuse from the listening address, counted in sockets (issue 12): two spo nodes, each with
 * the connection manager, a SO_REUSEPORT listener, and the governor driving the peer state actions
 * over the manager, that each want the other as a peer end up on ONE TCP connection carrying both
 * directions. Here in one process; duplex-processes.test.ts does the same with two processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Protocol } from '../../src/net/mux/limits.js';
import { freePort } from '../lib/ports.js';
import { acceptedAt, type DuplexNode, establishedSockets, startDuplexNode } from './duplex-node.js';

const nodes: DuplexNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function node(port: number, bind = true): Promise<DuplexNode> {
  const n = await startDuplexNode({ port, bind });
  nodes.push(n);
  return n;
}

describe('duplex reuse between two spo nodes', () => {
  it('B dials A from its listening port; A then wants B and reuses that connection: one TCP connection, both directions', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await node(pa);
    const b = await node(pb);
    b.want([a.address]);
    await b.until(() => b.actions.status(a.address) === 'hot');
    // A sees B's listening address as the peer of its inbound connection
    expect(a.cm.state.cm.byPeer.has(b.address)).toBe(true);
    a.want([b.address]);
    await a.until(() => a.actions.status(b.address) === 'hot');
    // both directions run on the one connection: each side's responders serve the other's initiators
    const served = (n: DuplexNode) =>
      n.connections.length === 1 &&
      [Protocol.keepAlive, Protocol.chainSync].every((p) => n.connections[0]?.responders.includes(p));
    await a.until(() => served(a));
    await b.until(() => served(b));
    expect(a.connections.map((c) => c.provenance)).toEqual(['inbound']);
    expect(b.connections.map((c) => c.provenance)).toEqual(['outbound']);
    // the kernel's view: one connection, i.e. one socket at each end, between the listening ports
    const byLocal = (x: { local: number }, y: { local: number }) => x.local - y.local;
    expect(establishedSockets([pa, pb]).sort(byLocal)).toEqual(
      [
        { local: pa, remote: pb },
        { local: pb, remote: pa },
      ].sort(byLocal),
    );
    expect(a.cm.sockets).toBe(1);
    expect(b.cm.sockets).toBe(1);
    for (const n of [a, b]) {
      expect(n.cm.counters()['connectionManager.fullDuplexConns']).toBe(1);
      expect(n.cm.counters()['connectionManager.duplexConns']).toBe(1);
    }
  });

  it('both at once: a dial that loses the 4-tuple to the other side is a failure, the retry reuses; still one connection', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await node(pa);
    const b = await node(pb);
    a.want([b.address]);
    b.want([a.address]);
    await a.until(() => a.actions.status(b.address) === 'hot');
    await b.until(() => b.actions.status(a.address) === 'hot');
    expect(establishedSockets([pa, pb])).toHaveLength(2);
    expect(a.cm.sockets + b.cm.sockets).toBe(2);
    // a dial that found its 4-tuple taken by the accepted socket of the other's dial (EADDRNOTAVAIL)
    const failures = [...a.traces, ...b.traces].filter((t) => t.type === 'EstablishFailed').map((t) => t.detail);
    for (const f of failures) expect(f).toBe('CONNECT_UNREACHABLE');
  });

  it('without the bind (what a peer without SO_REUSEPORT gets): A sees an ephemeral port, cannot reuse, and dials: two connections', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await node(pa, false);
    const b = await node(pb, false);
    b.want([a.address]);
    await b.until(() => b.actions.status(a.address) === 'hot');
    expect(a.cm.state.cm.byPeer.has(b.address)).toBe(false);
    a.want([b.address]);
    await a.until(() => a.actions.status(b.address) === 'hot');
    // one connection from B's ephemeral port to A's listening port, one from A's ephemeral port to
    // B's: none between the two listening ports, two accepted ones (one at each listening port)
    expect(establishedSockets([pa, pb])).toHaveLength(0);
    expect(acceptedAt([pa, pb])).toHaveLength(2);
    expect(a.cm.sockets).toBe(2);
    expect(b.cm.sockets).toBe(2);
    for (const n of [a, b]) expect(n.cm.counters()['connectionManager.fullDuplexConns']).toBe(0);
  });

  it('A lets B go: A releases its side (cold at once), B keeps using the same connection', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await node(pa);
    const b = await node(pb);
    b.want([a.address]);
    await b.until(() => b.actions.status(a.address) === 'hot');
    a.want([b.address]);
    await a.until(() => a.actions.status(b.address) === 'hot');
    a.want([]);
    // (all-zero targets are the governor's 'not yet installed': keep one known peer)
    a.driver.setTargets({ ...a.driver.state.targets, known: 1, established: 0, active: 0 });
    await a.until(() => a.traces.some((t) => t.type === 'Cold' && t.peer === b.address));
    const kinds = a.traces.map((t) => t.type);
    expect(kinds).toContain('Deactivated');
    expect(kinds).toContain('Released');
    expect(kinds).not.toContain('ConnectionLost');
    // B is still hot over the one connection, which A now holds for B's use only
    expect(b.actions.status(a.address)).toBe('hot');
    expect(establishedSockets([pa, pb])).toHaveLength(2);
    expect(a.cm.counters()['connectionManager.fullDuplexConns']).toBe(0);
    expect(a.cm.counters()['connectionManager.inboundConns']).toBe(1);
    expect(a.cm.counters()['connectionManager.outboundConns']).toBe(0);
  });
});
