/**
 * Peer sharing both ways through `spo run` (issue 13), with real processes on loopback: relays A
 * and B name each other as local roots (not advertised), and each has one `spo serve` producer of
 * its own as an advertised local root (A: D, B: C). Neither has public roots, ledger peers or a
 * registry, and a known-peer target one above its local roots: A can learn C only from B, and B
 * D only from A, by peer sharing. A third relay E (local root B) runs without
 * --allow-private-peers: what B shares with it are loopback addresses, and it refuses them.
 *
 * --peer-share-delay 1s stands for the node's 5 min before the first request and 15 min between
 * requests. Everything is synchronised on the JSON lines the processes print (the `peersReceived`
 * and `peersShared` events, snapshots), never on sleeps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { JsonLinesProcess } from '../lib/json-lines.js';
import { freePort } from '../lib/ports.js';
import { spoRunArgs } from '../lib/run-args.js';

const MAGIC = 42;

type Line = (NodeEvent | NodeSnapshot | Record<string, unknown>) & { event: string };
type Received = Extract<NodeEvent, { event: 'peersReceived' }>;
type Shared = Extract<NodeEvent, { event: 'peersShared' }>;
const isSnapshot = (l: Line): l is NodeSnapshot => l.event === 'snapshot';
const isReceived = (l: Line): l is Received => l.event === 'peersReceived';
const isShared = (l: Line): l is Shared => l.event === 'peersShared';

const at = (port: number): string => `127.0.0.1:${port}`;

/** Local-root groups: the relays (not advertised), then the relay's own producer (advertised). */
function topology(relays: number[], producer?: number): string {
  const group = (ports: number[], advertise: boolean) => ({
    accessPoints: ports.map((port) => ({ address: '127.0.0.1', port })),
    advertise,
    trustable: true,
    hotValency: ports.length,
  });
  return JSON.stringify({
    localRoots: [group(relays, false), ...(producer === undefined ? [] : [group([producer], true)])],
    publicRoots: [],
    useLedgerAfterSlot: -1,
  });
}

/** A known-peer target one above the local roots: the node asks its peers for one more. */
function config(localRoots: number): string {
  return JSON.stringify({
    PeerSharing: true,
    TargetNumberOfRootPeers: 0,
    TargetNumberOfKnownPeers: localRoots + 1,
    TargetNumberOfEstablishedPeers: localRoots,
    TargetNumberOfActivePeers: localRoots,
    TargetNumberOfKnownBigLedgerPeers: 0,
    TargetNumberOfEstablishedBigLedgerPeers: 0,
    TargetNumberOfActiveBigLedgerPeers: 0,
  });
}

describe('spo run: peer sharing both ways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spo-run-peer-sharing-'));
  const procs: Array<JsonLinesProcess<Line> | JsonLinesProcess> = [];
  const ports = { a: 0, b: 0, c: 0, d: 0, e: 0 };
  let a: JsonLinesProcess<Line>;
  let b: JsonLinesProcess<Line>;
  let e: JsonLinesProcess<Line>;

  const relay = (name: 'a' | 'b' | 'e', privatePeers: boolean): JsonLinesProcess<Line> => {
    const p = new JsonLinesProcess<Line>(
      `relay ${name.toUpperCase()}`,
      spoRunArgs({
        topology: join(dir, `${name}.json`),
        config: join(dir, `${name}-config.json`),
        port: ports[name],
        magic: MAGIC,
        source: join(dir, 'registry.json'),
        allowEmpty: true,
        allowPrivatePeers: privatePeers,
        peerShareDelay: '1s',
        snapshotInterval: '300ms',
        seed: 7,
      }),
    );
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    const producer = (name: string): JsonLinesProcess => {
      const p = new JsonLinesProcess(`producer ${name}`, ['serve', '--port', '0', '--magic', String(MAGIC), '--json']);
      procs.push(p);
      return p;
    };
    const listening = async (p: JsonLinesProcess): Promise<number> =>
      Number((await p.until('listening', (l) => l.event === 'listening')).port);
    const [c, d] = [producer('C'), producer('D')];
    ports.c = await listening(c);
    ports.d = await listening(d);
    ports.a = await freePort();
    ports.b = await freePort();
    ports.e = await freePort();
    writeFileSync(join(dir, 'registry.json'), JSON.stringify({ pools: [] }));
    writeFileSync(join(dir, 'a.json'), topology([ports.b], ports.d));
    writeFileSync(join(dir, 'b.json'), topology([ports.a], ports.c));
    writeFileSync(join(dir, 'e.json'), topology([ports.b]));
    writeFileSync(join(dir, 'a-config.json'), config(2));
    writeFileSync(join(dir, 'b-config.json'), config(2));
    writeFileSync(join(dir, 'e-config.json'), config(1));
    a = relay('a', true);
    b = relay('b', true);
    e = relay('e', false);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('A learns C from B: B answered A, and A lists C as a peer-share peer (its snapshot and spo peers)', async () => {
    const got = await a.until(
      'B sharing C with A',
      (l): l is Received => isReceived(l) && l.peer === at(ports.b) && l.peers.includes(at(ports.c)),
    );
    expect(got.refused).toBeUndefined();
    const answered = await b.until(
      'B answering A with C',
      (l): l is Shared => isShared(l) && l.peer === at(ports.a) && l.peers.includes(at(ports.c)),
    );
    // B shares what it may advertise: never A (a local root it does not advertise), never A itself
    expect(answered.peers).not.toContain(at(ports.a));
    const s = await a.until(
      'C in A snapshot',
      (l): l is NodeSnapshot => isSnapshot(l) && l.peers.some((p) => p.peer === at(ports.c)),
      { from: a.lines.indexOf(got) },
    );
    expect(s.peers.find((p) => p.peer === at(ports.c))).toMatchObject({ source: 'peer-share' });
    expect(s.counters.peerSelection?.known).toBe(3);
    const peers = await runCli(['peers', '--topology', join(dir, 'a.json'), '--json'], { timeoutMs: 20_000 });
    expect(peers.code, peers.stderr).toBe(0);
    const table = parseJsonOutput<NodeSnapshot>(peers);
    expect(table.pid).toBe(a.pid);
    expect(table.peers.find((p) => p.peer === at(ports.c))).toMatchObject({ source: 'peer-share' });
    expect(table.peers.find((p) => p.peer === at(ports.b))).toMatchObject({ source: 'local-root' });
  });

  it('and the reverse: B learns D from A, which answered B', async () => {
    const got = await b.until(
      'A sharing D with B',
      (l): l is Received => isReceived(l) && l.peer === at(ports.a) && l.peers.includes(at(ports.d)),
    );
    await a.until(
      'A answering B with D',
      (l): l is Shared => isShared(l) && l.peer === at(ports.b) && l.peers.includes(at(ports.d)),
    );
    const s = await b.until(
      'D in B snapshot',
      (l): l is NodeSnapshot => isSnapshot(l) && l.peers.some((p) => p.peer === at(ports.d)),
      { from: b.lines.indexOf(got) },
    );
    expect(s.peers.find((p) => p.peer === at(ports.d))).toMatchObject({ source: 'peer-share' });
  });

  it('without --allow-private-peers, E refuses the loopback addresses B shares', async () => {
    const got = await e.until(
      'B sharing C with E, refused',
      (l): l is Received => isReceived(l) && l.peer === at(ports.b) && (l.refused ?? []).includes(at(ports.c)),
    );
    expect(got.peers).toEqual([]);
    // B did send it
    await b.until(
      'B answering E with C',
      (l): l is Shared => isShared(l) && l.peer === at(ports.e) && l.peers.includes(at(ports.c)),
    );
    // E's next snapshot: still only its local root B, C never became known
    const s = await e.until('a snapshot of E after the refusal', isSnapshot, { from: e.lines.indexOf(got) });
    expect(s.peers.map((p) => p.peer)).toEqual([at(ports.b)]);
    for (const l of e.lines) if (isSnapshot(l)) expect(l.peers.map((p) => p.peer)).not.toContain(at(ports.c));
  });
});
