/**
 * Outbound sockets bound to the listening address (src/net/transport/reuse-port.ts), on loopback:
 * the remote sees our listening port, the listener keeps accepting on it, one connection per
 * 4-tuple, errors as tcpConnect names them. Node's own `net.connect({localPort})` is shown failing
 * (the reason the package is used).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenReusePort, reusePortSupported, tcpConnectFrom } from '../../src/net/transport/reuse-port.js';
import type { TcpBearer } from '../../src/net/transport/tcp.js';

const servers: Server[] = [];
const bearers: TcpBearer[] = [];

afterEach(async () => {
  for (const b of bearers.splice(0)) b.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A listener on a SO_REUSEPORT socket that records who connected, and echoes. */
async function reuseListener(host: string): Promise<{ server: Server; port: number; peers: string[] }> {
  const peers: string[] = [];
  const server = createServer((s: Socket) => {
    peers.push(`${s.remoteAddress}:${s.remotePort}`);
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(d));
  });
  servers.push(server);
  // port 0 would pick a port per socket: take a free one first, then share it
  const probe = createServer();
  await new Promise<void>((r) => probe.listen({ host, port: 0 }, () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await listenReusePort(server, { host, port });
  return { server, port, peers };
}

/** Resolves once `n` connections were accepted (on the server's connection events). */
function accepted(l: { server: Server; peers: string[] }, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (l.peers.length < n) return;
      l.server.removeListener('connection', onConnection);
      resolve();
    };
    // the recording listener runs first (registered first), so the count is current here
    const onConnection = (): void => check();
    l.server.on('connection', onConnection);
    check();
  });
}

describe('dialling from the listening address', () => {
  it('the package loads on this platform (prebuilt binary, nothing compiled)', () => {
    expect(reusePortSupported()).toEqual({ supported: true });
  });

  it("Node's own net.connect from a port a listener holds fails with EADDRINUSE", async () => {
    const a = await reuseListener('127.0.0.1');
    const b = await reuseListener('127.0.0.1');
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: b.port, localAddress: '127.0.0.1', localPort: a.port });
      s.once('error', resolve);
      s.once('connect', () => {
        s.destroy();
        resolve(new Error('connected') as NodeJS.ErrnoException);
      });
    });
    expect(err.code).toBe('EADDRINUSE');
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`${host}: the remote sees our listening port, data flows, the listener keeps accepting`, async () => {
      const a = await reuseListener(host);
      const b = await reuseListener(host);
      const c = await reuseListener(host);
      const local = { host, port: a.port };
      const ab = await tcpConnectFrom({ local, host, port: b.port, timeoutMs: 5_000 });
      bearers.push(ab.bearer);
      await accepted(b, 1);
      expect(b.peers[0]).toBe(`${host}:${a.port}`);
      expect(ab.bearer.local).toEqual({ host, port: a.port });
      // a second peer from the same port
      const ac = await tcpConnectFrom({ local, host, port: c.port, timeoutMs: 5_000 });
      bearers.push(ac.bearer);
      await accepted(c, 1);
      expect(c.peers[0]).toBe(`${host}:${a.port}`);
      // bytes both ways through the bearer
      const echoed = new Promise<string>((resolve) => {
        let got = '';
        ab.bearer.attach({
          data: (chunk) => {
            got += Buffer.from(chunk).toString();
            if (got === 'ping') resolve(got);
          },
          drain: () => undefined,
          end: () => undefined,
          close: () => undefined,
        });
      });
      ab.bearer.write(Buffer.from('ping'));
      expect(await echoed).toBe('ping');
      // the listener still accepts on its port
      const plain = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host, port: a.port }, () => resolve(s));
        s.once('error', reject);
      });
      await accepted(a, 1);
      plain.destroy();
    });
  }

  it('one connection per 4-tuple: the same peer twice from the same port is refused by the kernel', async () => {
    const a = await reuseListener('127.0.0.1');
    const b = await reuseListener('127.0.0.1');
    const local = { host: '127.0.0.1', port: a.port };
    const first = await tcpConnectFrom({ local, host: '127.0.0.1', port: b.port, timeoutMs: 5_000 });
    bearers.push(first.bearer);
    await expect(tcpConnectFrom({ local, host: '127.0.0.1', port: b.port, timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'CONNECT_UNREACHABLE',
      details: { errno: 'EADDRNOTAVAIL' },
    });
  });

  it('a refused dial is CONNECT_REFUSED and leaves no socket behind', async () => {
    const a = await reuseListener('127.0.0.1');
    const closed = await reuseListener('127.0.0.1');
    const port = closed.port;
    await new Promise<void>((r) => closed.server.close(() => r()));
    servers.splice(servers.indexOf(closed.server), 1);
    await expect(
      tcpConnectFrom({ local: { host: '127.0.0.1', port: a.port }, host: '127.0.0.1', port, timeoutMs: 5_000 }),
    ).rejects.toMatchObject({ code: 'CONNECT_REFUSED' });
  });

  it('families must match', async () => {
    await expect(
      tcpConnectFrom({ local: { host: '127.0.0.1', port: 1 }, host: '::1', port: 2, timeoutMs: 1_000 }),
    ).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });
});
