/**
 * The same random scripts as test/node/shell-sim.test.ts, on loopback TCP in real time: three nodes
 * on 127.0.0.1, each a connection manager shell behind the rate-limited accept loop, listening on a
 * SO_REUSEPORT socket and dialling from its listening address (so the far end can reuse an inbound
 * duplex connection), plus silent clients (the handshake timeout) and clients of another network
 * (refused, TIME_WAIT). Timeouts are lowered so a run ends in about a second; the run ends when every
 * node is quiet (an event, not a sleep). Checked: every CM transition valid by §8.3, every remote
 * transition by §10.2, chains ending in Unknown, counters equal to the states after every change,
 * the hard limit. The 1.1x timeout check is in the virtual-time test (real timers fire late on a
 * loaded machine).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectPeer } from '../../src/net/client.js';
import { LiveNode } from './live.js';
import { type Cmd, cmdArb, runScript } from './shell-scripts.js';

const FAST = { protocolIdleTimeout: 150, timeWaitTimeout: 200, handshakeTimeout: 600 };

async function runLoopback(hardLimit: number, cmds: readonly Cmd[]): Promise<{ errors: string[]; reused: number }> {
  const nodes = await Promise.all(
    [0, 1, 2].map((i) =>
      new LiveNode({ ...FAST, hardLimit, reusePort: true, rng: { nextU32: () => (i * 7919) >>> 0 } }).start(),
    ),
  );
  const timers = new Set<NodeJS.Timeout>();
  const raws = new Set<import('node:net').Socket>();
  const env = {
    nodes: nodes.map((n) => ({ cm: n.cm, address: n.address })),
    at: (t: number, fn: () => void) => {
      const h = setTimeout(() => {
        timers.delete(h);
        fn();
      }, t);
      timers.add(h);
    },
    silent: (address: string) => {
      const [host, port] = address.split(':') as [string, string];
      const s = connect({ host, port: Number(port) });
      s.on('error', () => undefined);
      raws.add(s);
      s.on('close', () => raws.delete(s));
    },
    stranger: (address: string) => {
      const [host, port] = address.split(':') as [string, string];
      void connectPeer({ host, port: Number(port), magic: 764824073, connectTimeoutMs: 2000, handshakeTimeoutMs: 2000 })
        .then((c) => c.abort())
        .catch(() => undefined);
    },
  };
  const run = runScript(env, cmds);
  const span = Math.max(0, ...cmds.map((c) => c.at));
  await new Promise<void>((resolve) => env.at(span + 50, resolve));
  run.wrapUp();
  await Promise.all(nodes.map((n) => n.quiet()));
  const errors: string[] = [];
  for (const [i, n] of nodes.entries()) {
    errors.push(...n.oracle(undefined, 0).map((e) => `node ${i}: ${e}`));
    if (n.maxInbound > hardLimit) errors.push(`node ${i}: inbound ${n.maxInbound} above ${hardLimit}`);
  }
  errors.push(...run.failures.map((f) => `script: ${f}`));
  for (const t of timers) clearTimeout(t);
  for (const s of raws) s.destroy();
  await Promise.all(nodes.map((n) => n.stop()));
  return { errors, reused: run.reused };
}

describe('connection manager + inbound governor shells, random scripts on loopback TCP', () => {
  it('every transition valid, chained, ending in Unknown; counters agree; hard limit kept', async () => {
    let reused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(1, 2), fc.constant(512)),
        fc.array(cmdArb(600), { minLength: 5, maxLength: 30 }),
        async (hardLimit, cmds) => {
          const o = await runLoopback(hardLimit, cmds);
          reused += o.reused;
          expect(o.errors).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.SHELL_LOOPBACK_RUNS ?? 12), seed: 5, endOnFailure: true },
    );
    console.error(`shell-loopback: reused inbound duplex connections: ${reused}`);
  }, 180_000);
});
