/**
 * Duplex reuse counted in sockets, with two processes (issue 12's "done when"): two spo nodes
 * (test/node/duplex-node-main.ts: connection manager, SO_REUSEPORT listener and dialer, governor
 * driver and peer state actions), each told to want the other, end up on one TCP connection
 * carrying both directions: the kernel lists one connection between their listening ports, each
 * process holds one socket, and on each the other's keep-alive and chain-sync were served.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Protocol } from '../../src/net/mux/limits.js';
import { ROOT } from '../lib/cli.js';
import { freePort } from '../lib/ports.js';
import { establishedSockets } from './duplex-node.js';

const MAIN = fileURLToPath(new URL('./duplex-node-main.ts', import.meta.url));

interface Report {
  address: string;
  statuses: Record<string, string>;
  sockets: number;
  counters: Record<string, number>;
  connections: Array<{ provenance: string; responders: number[]; closed: boolean }>;
}

interface NodeProcess {
  child: ChildProcess;
  last: Report | undefined;
  send(line: string): void;
  until(check: (r: Report) => boolean, what: string): Promise<Report>;
  stop(): Promise<void>;
}

const running: NodeProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

function start(port: number): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, String(port)], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const listeners = new Set<(r: Report) => void>();
  const p: NodeProcess = {
    child,
    last: undefined,
    send: (line) => child.stdin?.write(`${line}\n`),
    until(check, what) {
      return new Promise((resolve, reject) => {
        const onExit = (): void => reject(new Error(`node on port ${port} exited waiting for ${what}`));
        const l = (r: Report): void => {
          if (!check(r)) return;
          listeners.delete(l);
          child.off('exit', onExit);
          resolve(r);
        };
        child.once('exit', onExit);
        listeners.add(l);
        if (p.last) l(p.last);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin?.end(); // the node stops itself when its input closes
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) {
        p.last = JSON.parse(line) as Report;
        for (const l of [...listeners]) l(p.last);
      }
      i = buf.indexOf('\n');
    }
  });
  running.push(p);
  return p;
}

describe('duplex reuse between two spo node processes', () => {
  it('each wants the other: one TCP connection between the listening ports carries both directions', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = start(pa);
    const b = start(pb);
    const addrA = `127.0.0.1:${pa}`;
    const addrB = `127.0.0.1:${pb}`;
    await a.until((r) => r.address === addrA, 'A up');
    await b.until((r) => r.address === addrB, 'B up');
    b.send(`want ${addrA}`);
    await b.until((r) => r.statuses[addrA] === 'hot', 'B has A hot');
    a.send(`want ${addrB}`);
    const served = (r: Report) =>
      r.connections.length === 1 &&
      [Protocol.keepAlive, Protocol.chainSync].every((p) => r.connections[0]?.responders.includes(p));
    const ra = await a.until((r) => r.statuses[addrB] === 'hot' && served(r), 'A has B hot, B served on it');
    const rb = await b.until((r) => served(r), 'A served on B');
    expect(ra.sockets).toBe(1);
    expect(rb.sockets).toBe(1);
    expect(ra.connections.map((c) => c.provenance)).toEqual(['inbound']);
    expect(rb.connections.map((c) => c.provenance)).toEqual(['outbound']);
    for (const r of [ra, rb]) expect(r.counters['connectionManager.fullDuplexConns']).toBe(1);
    // the kernel: one connection between the two listening ports (one socket at each end), no other
    const byLocal = (x: { local: number }, y: { local: number }) => x.local - y.local;
    expect(establishedSockets([pa, pb]).sort(byLocal)).toEqual(
      [
        { local: pa, remote: pb },
        { local: pb, remote: pa },
      ].sort(byLocal),
    );
  });
});
