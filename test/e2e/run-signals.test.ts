/**
 * `spo run` and Ctrl-C (issue 13), with real processes on loopback: one SIGINT closes every
 * connection and exits 0 within 5 s even when a peer hangs (a `spo serve` local root stopped with
 * SIGSTOP: it never answers the goodbye, so the node waits out its close limit and resets it); a
 * second Ctrl-C while the node is still closing exits at once with 130, not killed by the signal
 * (src/base-command.ts keeps its handler for the second signal). Either way the control socket
 * file of spo peers is gone afterwards (the forced exit removes it from a process 'exit' hook).
 *
 * "Still closing" is an event, not a guess: the test holds a plain TCP connection to the node, and
 * the node closes it as its shutdown begins, a second before the hung peer's close limit ends.
 */
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import { type CliResult, runCli } from '../lib/cli.js';
import { JsonLinesProcess } from '../lib/json-lines.js';
import { spoRunArgs } from '../lib/run-args.js';
import { localRootProducerForSuite } from '../lib/run-files.js';

const MAGIC = 42;

type Line = (NodeEvent | NodeSnapshot | Record<string, unknown>) & { event: string };
const isSnapshot = (l: Line): l is NodeSnapshot => l.event === 'snapshot';

/** The port can be listened on again at once: nothing of the node is left listening there. */
async function portFree(port: number): Promise<void> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  await new Promise<void>((r) => s.close(() => r()));
}

describe('spo run: SIGINT once, and a second Ctrl-C', () => {
  const lr = localRootProducerForSuite('spo-run-signals-', MAGIC);
  const { dir } = lr;
  const procs: JsonLinesProcess<Line>[] = [];

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  /** A node with the producer hot, then the producer hung (SIGSTOP). */
  async function nodeWithHungPeer(name: string): Promise<{ node: JsonLinesProcess<Line>; listening: string }> {
    const node = new JsonLinesProcess<Line>(
      name,
      spoRunArgs({
        topology: lr.topology,
        control: join(dir, `${name}.sock`),
        magic: MAGIC,
        source: lr.registry,
        allowEmpty: true,
        snapshotInterval: '200ms',
        seed: 1,
      }),
    );
    procs.push(node);
    const hot = await node.until(
      'the producer hot',
      (l): l is NodeSnapshot => isSnapshot(l) && l.peers.some((p) => p.peer === lr.root && p.temperature === 'hot'),
    );
    lr.producer.kill('SIGSTOP');
    return { node, listening: hot.listening[0] as string };
  }

  /**
   * A plain TCP connection held to the node at `listening` (resolves once connected); `onClosed`
   * runs when the node closes it: its shutdown has begun.
   */
  function holdConnection(listening: string, onClosed: () => void): Promise<void> {
    const [host, port] = [listening.replace(/:\d+$/, ''), Number(listening.replace(/^.*:/, ''))];
    return new Promise((resolve, reject) => {
      const s = connect({ host, port }, () => resolve());
      s.once('error', (e) => reject(e));
      s.on('error', () => undefined); // a reset at the node's exit is expected
      s.once('close', onClosed);
      s.resume();
    });
  }

  it('one SIGINT: every connection closed, exit 0 within 5 s though a peer hangs', async () => {
    const { node, listening } = await nodeWithHungPeer('once');
    let heldClosed = false;
    await holdConnection(listening, () => {
      heldClosed = true;
    });
    const started = performance.now();
    node.kill('SIGINT');
    const r = (await node.done) as CliResult;
    const ms = performance.now() - started;
    lr.producer.kill('SIGCONT');
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(node.lines.at(-1)).toMatchObject({ event: 'stopped', reason: 'signal' });
    expect(ms).toBeLessThan(5_000);
    expect(heldClosed).toBe(true);
    await portFree(Number(listening.replace(/^.*:/, '')));
    // the orderly stop closed the control socket of spo peers and removed its file
    expect(existsSync(join(dir, 'once.sock'))).toBe(false);
  });

  it('a second Ctrl-C while the node is still closing: exit 130 at once, not killed by the signal', async () => {
    const { node, listening } = await nodeWithHungPeer('twice');
    let second = false;
    await holdConnection(listening, () => {
      // the shutdown has begun (the node closed our connection) and waits on the hung peer
      if (!node.running) return;
      second = true;
      node.kill('SIGINT');
    });
    node.kill('SIGINT');
    const r = (await node.done) as CliResult;
    lr.producer.kill('SIGCONT');
    expect(second, 'the node had finished closing before the second Ctrl-C could be sent').toBe(true);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    // it left before its orderly stop ended (the hung peer's close limit), and left nothing listening
    expect(node.lines.some((l) => l.event === 'stopped')).toBe(false);
    await portFree(Number(listening.replace(/^.*:/, '')));
    // the forced exit removed the control socket file too: nothing left for spo peers to find
    expect(existsSync(join(dir, 'twice.sock'))).toBe(false);
    const peers = await runCli(['peers', '--control', join(dir, 'twice.sock'), '--json'], { timeoutMs: 20_000 });
    expect(peers.code).toBe(1);
    expect(JSON.parse(peers.stdout)).toMatchObject({ error: { code: 'CONTROL_NOT_RUNNING' } });
  });
});
