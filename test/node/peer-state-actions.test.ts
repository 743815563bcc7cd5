/**
 * The peer state actions (src/node/peer-state-actions.ts) under the real governor driver, on
 * loopback against `spo serve`'s responders (in-process src/net servers and a real `bin/run.js
 * serve` process): targets reached with the hot protocols running, demotions asked by the
 * governor, asynchronous demotions when a peer goes away, and the reference's back-off after
 * failures. Every wait is on an event of the driver, the actions or the servers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../../src/governor/types.js';
import { monotonicClock } from '../../src/lib/clock.js';
import type { Connection } from '../../src/net/connection.js';
import { Protocol } from '../../src/net/mux/limits.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { BIN, ROOT } from '../lib/cli.js';
import { type LiveNode, liveNode, MAGIC } from './live-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Responder {
  server: RunningServer;
  peer: Peer;
  /** Inbound connections the server negotiated, and the responders each ran. */
  inbound: Array<{ connection: Connection; responders: number[] }>;
}

async function responder(): Promise<Responder> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    magic: MAGIC,
    blockIntervalMs: 100,
    initialBlocks: 5,
  });
  const r: Responder = { server, peer: server.address, inbound: [] };
  server.events.on('negotiated', (_remote, connection) => {
    const entry = { connection, responders: [] as number[] };
    r.inbound.push(entry);
    connection.on('responderStart', (p) => entry.responders.push(p));
  });
  cleanups.push(() => server.close());
  return r;
}

function track(node: LiveNode): LiveNode {
  cleanups.push(() => node.stop());
  return node;
}

const statusCount = (node: LiveNode, st: string) =>
  [...node.actions.snapshot().values()].filter((s) => s === st).length;

describe.each(['direct', 'cm'] as const)(
  'peer state actions over TCP (%s connector), driven by the governor',
  (connector) => {
    it('reaches the targets: three warm, two of them hot running chain-sync, keep-alive on all', async () => {
      const rs = [await responder(), await responder(), await responder()];
      const node = track(
        liveNode({
          connector,
          roots: rs.map((r) => r.peer),
          targets: { root: 3, known: 3, established: 3, active: 2 },
          keepAliveIntervalMs: 200,
        }),
      );
      await node.until(() => {
        const c = node.driver.counters();
        return c.established === 3 && c.active === 2;
      }, 'three established, two active');
      expect(statusCount(node, 'hot')).toBe(2);
      expect(statusCount(node, 'warm')).toBe(1);
      const hot = [...node.actions.snapshot()].filter(([, s]) => s === 'hot').map(([p]) => p);
      // the hot peers deliver headers (the servers grow their chains every 100 ms)
      await node.until(() => hot.every((p) => (node.headers.get(p) ?? 0) >= 2), 'headers from both hot peers');
      // every responder saw keep-alive; only the hot peers' saw chain-sync
      await node.until(
        () => rs.every((r) => r.inbound.length === 1 && r.inbound[0]?.responders.includes(Protocol.keepAlive)),
        'keep-alive on every connection',
      );
      for (const r of rs) {
        const ranChainSync = r.inbound[0]?.responders.includes(Protocol.chainSync);
        expect(ranChainSync).toBe(hot.includes(r.peer));
      }
      const types = new Set(node.traces.map((t) => t.type));
      expect(types).toEqual(new Set(['EstablishStart', 'Established', 'Activated']));
    });

    it('lower targets: the governor deactivates and closes, each connection is released and reported cold', async () => {
      const rs = [await responder(), await responder()];
      const node = track(
        liveNode({
          connector,
          roots: rs.map((r) => r.peer),
          targets: { root: 2, known: 2, established: 2, active: 2 },
        }),
      );
      await node.until(() => node.driver.counters().active === 2, 'two active');
      node.driver.setTargets({ ...node.driver.state.targets, established: 1, active: 0 });
      await node.until(() => {
        const c = node.driver.counters();
        return c.active === 0 && c.established === 1 && node.traces.some((t) => t.type === 'Cold');
      }, 'none hot, one warm, one cold');
      const kinds = node.traces.map((t) => t.type);
      expect(kinds.filter((k) => k === 'Deactivated')).toHaveLength(2);
      expect(kinds.filter((k) => k === 'Released')).toHaveLength(1);
      expect(kinds).not.toContain('ConnectionLost');
      expect(kinds).not.toContain('ProtocolError');
      const cold = node.traces.find((t) => t.type === 'Cold')?.peer as Peer;
      expect(node.actions.status(cold)).toBeUndefined();
      expect(node.driver.state.known.get(cold)?.failCount).toBe(0);
      // the closed peer's server saw its connection end; the other still has one
      const closedServer = rs.find((r) => r.peer === cold) as Responder;
      await new Promise<void>((resolve) => {
        if (closedServer.server.connections() === 0) resolve();
        else closedServer.server.events.once('disconnect', () => resolve());
      });
      expect(closedServer.server.connections()).toBe(0);
      expect(rs.find((r) => r.peer !== cold)?.server.connections()).toBe(1);
    });

    it('a hot peer that goes away is an asynchronous demotion: cooling, then cold, a failure, and a warm peer is promoted', async () => {
      const rs = [await responder(), await responder(), await responder()];
      const node = track(
        liveNode({
          connector,
          roots: rs.map((r) => r.peer),
          targets: { root: 3, known: 3, established: 3, active: 2 },
        }),
      );
      await node.until(
        () => node.driver.counters().active === 2 && node.driver.counters().established === 3,
        'targets',
      );
      const [victim] = [...node.actions.snapshot()].find(([, s]) => s === 'hot') as [Peer, string];
      const statuses: string[] = [];
      node.actions.onTrace((t) => {
        if (t.peer === victim && t.status) statuses.push(`${t.type}:${t.status}`);
      });
      await (rs.find((r) => r.peer === victim) as Responder).server.close();
      await node.until(
        () =>
          node.driver.state.known.get(victim)?.failCount === 1 &&
          node.driver.counters().established === 2 &&
          node.driver.counters().active === 2,
        'the victim cold and another peer hot',
      );
      expect(statuses.slice(0, 2)).toEqual(['ConnectionLost:cooling', 'Cold:cold']);
    });

    it('a failing peer is retried after the reference back-off: 5 s, 10 s, 20 s, each ± 2 s', async () => {
      // A port nothing listens on: start a server to learn a free port, then close it.
      const gone = await responder();
      await gone.server.close();
      cleanups.pop();
      // Time runs 10x faster than the machine's clock here (an injected Clock): 35 s take 3.5 s.
      const clock = monotonicClock(10);
      const node = track(
        liveNode({ connector, roots: [gone.peer], targets: { root: 1, known: 1, established: 1 }, clock }),
      );
      const failures: Array<{ at: number; failCount: number; retryAt: number }> = [];
      node.driver.onStep((e) => {
        const info = node.driver.state.known.get(gone.peer);
        const retryAt = node.driver.state.nextConnect.get(gone.peer);
        const last = failures[failures.length - 1];
        if (info && retryAt !== undefined && info.failCount > (last?.failCount ?? 0))
          failures.push({ at: e.at, failCount: info.failCount, retryAt });
      });
      await node.until(() => failures.length >= 4, 'four failed attempts');
      const starts = node.traces.filter((t) => t.type === 'EstablishStart').map((t) => t.at);
      const fails = node.traces.filter((t) => t.type === 'EstablishFailed');
      expect(fails.slice(0, 4).map((t) => t.detail)).toEqual(Array(4).fill('CONNECT_REFUSED'));
      for (let i = 0; i < 3; i++) {
        const f = failures[i] as { at: number; failCount: number; retryAt: number };
        const backoff = 5_000 * 2 ** i;
        expect(f.failCount).toBe(i + 1);
        expect(f.retryAt - f.at).toBeGreaterThanOrEqual(backoff - 2_000);
        expect(f.retryAt - f.at).toBeLessThanOrEqual(backoff + 2_000);
        // the next dial is not earlier than the governor said
        expect(starts[i + 1]).toBeGreaterThanOrEqual(f.retryAt);
      }
    });

    it('a `spo serve` process killed with SIGKILL is reported as a demotion of its peer', async () => {
      const child = await spoServe();
      const node = track(
        liveNode({ connector, roots: [child.peer], targets: { root: 1, known: 1, established: 1, active: 1 } }),
      );
      await node.until(() => node.driver.counters().active === 1, 'the process peer hot');
      child.process.kill('SIGKILL');
      await node.until(
        () => node.driver.counters().established === 0 && node.driver.state.known.get(child.peer)?.failCount === 1,
        'the peer cold in the governor, one failure',
      );
      const lost = node.traces.find((t) => t.type === 'ConnectionLost' || t.type === 'ProtocolError');
      expect(lost?.peer).toBe(child.peer);
      expect(node.traces.filter((t) => t.type === 'Cold').map((t) => t.peer)).toEqual([child.peer]);
    });
  },
);

/** `spo serve --port 0` as a child process; its address from its first line. */
async function spoServe(): Promise<{ peer: Peer; process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--network', 'mainnet', '--block-interval', '200ms'],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /listening \S*:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`spo serve exited ${code}`)));
  });
  return { peer: `127.0.0.1:${port}`, process: child };
}
