/**
 * The accept loops on loopback (src/node/server/accept-loop.ts): IPv4 and IPv6 listeners on one port
 * and one connection manager, the block at the hard limit with its pause of at least the configured
 * delay, and the accept-error policy wired to the listening sockets' errors (ECONNABORTED and EMFILE
 * survived and traced, any other accept error ending the server with ACCEPT_FAILED).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPeer, type PeerConnection } from '../../src/net/client.js';
import type { ServerTrace } from '../../src/node/server/accept-loop.js';
import { LiveNode } from './live.js';

const nodes: LiveNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

function trace(n: LiveNode, pred: (e: ServerTrace) => boolean): Promise<ServerTrace> {
  const have = n.serverTraces.find(pred);
  if (have) return Promise.resolve(have);
  return new Promise((resolve) => {
    const on = (e: ServerTrace): void => {
      if (!pred(e)) return;
      n.server?.events.off('trace', on);
      resolve(e);
    };
    n.server?.events.on('trace', on);
  });
}

const dial = (host: string, port: number): Promise<PeerConnection> =>
  connectPeer({ host, port, magic: 2, connectTimeoutMs: 5000, handshakeTimeoutMs: 5000 });

describe('accept loops', () => {
  it('IPv4 and IPv6 on one port, one manager', async () => {
    const n = await new LiveNode({ hosts: ['127.0.0.1', '::1'] }).start();
    nodes.push(n);
    const port = n.server?.port as number;
    expect(n.server?.addresses.map((a) => a.host).sort()).toEqual(['127.0.0.1', '::1']);
    const [a, b] = await Promise.all([dial('127.0.0.1', port), dial('::1', port)]);
    await a.keepAlive(1, 2000);
    await b.keepAlive(2, 2000);
    expect(n.cm.counters()['connectionManager.inboundConns']).toBe(2);
    expect(
      n.serverTraces
        .filter((e) => e.type === 'accepted')
        .map((e) => e.type === 'accepted' && e.address)
        .sort(),
    ).toEqual([`127.0.0.1:${port}`, `[::1]:${port}`]);
    a.abort();
    b.abort();
  });

  it('at the hard limit: no hand-over until below it, and a pause of at least the delay', async () => {
    const n = await new LiveNode({ limit: { hard: 2, soft: 1, delay: 300 } }).start();
    nodes.push(n);
    const port = n.server?.port as number;
    const first = await dial('127.0.0.1', port);
    const second = await dial('127.0.0.1', port);
    await trace(n, (e) => e.type === 'acceptBlocked');
    // a third waits in the queue, not handed to the manager
    const third = dial('127.0.0.1', port);
    await trace(n, (e) => e.type === 'accepted' && e.inbound === 2);
    expect(n.cm.counters()['connectionManager.inboundConns']).toBe(2);
    first.abort();
    const resumed = await trace(n, (e) => e.type === 'acceptResumed');
    expect(resumed.type === 'acceptResumed' && resumed.pausedMs).toBeGreaterThanOrEqual(299);
    const c = await third;
    expect(await c.keepAlive(1, 2000)).toBeGreaterThanOrEqual(0);
    expect(n.maxInbound).toBeLessThanOrEqual(2);
    second.abort();
    c.abort();
  });

  it('ECONNABORTED and EMFILE from accept are traced and survived; another accept error ends the server with ACCEPT_FAILED', async () => {
    const n = await new LiveNode({}).start();
    nodes.push(n);
    const server = n.server;
    if (!server) throw new Error('no server');
    const listener = server.servers[0];
    const acceptError = (code: string): Error =>
      Object.assign(new Error(`accept ${code}`), { code, syscall: 'accept' });
    listener?.emit('error', acceptError('EMFILE'));
    listener?.emit('error', acceptError('ECONNABORTED'));
    expect(n.serverTraces.filter((e) => e.type === 'acceptError')).toMatchObject([
      { code: 'EMFILE', action: 'pause' },
      { code: 'ECONNABORTED', action: 'pause' },
    ]);
    // still serving (after the 0.5 s pause)
    const c = await dial('127.0.0.1', server.port);
    await c.keepAlive(1, 2000);
    c.abort();
    listener?.emit('error', acceptError('EINVAL'));
    await expect(server.done).rejects.toMatchObject({ code: 'ACCEPT_FAILED' });
    expect(n.serverTraces.at(-1)).toMatchObject({ type: 'stopped', error: 'ACCEPT_FAILED' });
    // the listener is closed: a new connection is refused
    const refused = await new Promise<string>((resolve) => {
      const s: Socket = connect({ host: '127.0.0.1', port: server.port });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '?'));
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
