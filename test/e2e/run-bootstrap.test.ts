/**
 * `spo run` with bootstrap peers, end to end on loopback with real processes (bin/run.js): the
 * reference's rule (governor.md §2.9 and the §12.1 bootstrap properties) as an operator sees it.
 * While the ledger state is judged too old (bootstrap peers configured and the tip seen from peers
 * below useLedgerAfterSlot) the node connects only to its bootstrap peer and its trustable local
 * root: never to the registry's ledger peers nor to the local root that is not trustable; its
 * snapshot, `spo peers --json` and a `ledgerState` event say so. Once the tip passes the slot it
 * forgets the bootstrap peer it never reached, connects to the other local root and to ledger
 * peers, and says so.
 *
 * The peers: `spo serve` processes: the bootstrap peer and the trustable local root mint a header a
 * second (one synthetic chain: same headers, same slots), the untrusted local root and the two
 * ledger relays (two pools in the registry file) mint nothing; a second bootstrap peer is a port
 * nothing listens on, and so is the topology's public root (a dial would show as a failure). The
 * far ends' own logs (a `handshake` line per inbound connection) show who was contacted,
 * independently of the node.
 *
 * When the tip passes the slot is the test's choice, not a race with the start-up of a loaded
 * machine: the node starts with useLedgerAfterSlot far ahead; once the syncing state has been
 * checked, the topology gets a slot three headers above the tip the node has seen and a SIGHUP
 * (the operator's way to change it live); the tip then passes it as the chain grows. Every wait is
 * on JSON lines (events, snapshots), bounded; every process is stopped by the test.
 *
 * Peer sharing: every `spo serve` offers one address (a plain TCP listener of the test's, the
 * decoy) by peer sharing, and the node asks a peer 200 ms after connecting (--peer-share-delay; the
 * node's 5 minutes otherwise). While syncing no peer is asked (no `peersReceived` event) and the
 * decoy is never learnt (never in a snapshot, never dialled); after, it is learnt by peer sharing. test/node/live-node-bootstrap.test.ts checks every
 * job the governor hands out, in-process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import { runCli } from '../lib/cli.js';
import { JsonLinesProcess } from '../lib/json-lines.js';
import { freePort } from '../lib/ports.js';
import { spoRunArgs } from '../lib/run-args.js';

const MAGIC = 42;
/** Far beyond what the chain reaches during the test (spo serve: slot 1000 + 20 a header). */
const FAR_SLOT = 100_000_000;

type Line = (NodeEvent | NodeSnapshot | Record<string, unknown>) & { event: string };
type Ev<K extends NodeEvent['event']> = Extract<NodeEvent, { event: K }>;

class Proc extends JsonLinesProcess<Line> {
  constructor(name: string, args: string[]) {
    super(name, args, { timeoutMs: 170_000, waitTimeoutMs: 55_000 });
  }
}

const isSnapshot = (l: Line): l is NodeSnapshot & Line => l.event === 'snapshot';
/** A snapshot that satisfies `f` (a type guard, so that waits on it return the snapshot). */
const snapshotWhere =
  (f: (s: NodeSnapshot) => boolean) =>
  (l: Line): l is NodeSnapshot & Line =>
    isSnapshot(l) && f(l);
const isEvent =
  <K extends NodeEvent['event']>(k: K) =>
  (l: Line): l is Ev<K> & Line =>
    l.event === k;

/** The peer a line is about (promotions, demotions, failures), if any. */
const peerOf = (l: Line): string | undefined =>
  l.event === 'promoted' || l.event === 'demoted' || l.event === 'failed' ? (l as { peer: string }).peer : undefined;

/** The outbound peers of a snapshot (inbound-only rows are peers that dialled us). */
const outbound = (s: NodeSnapshot): string[] => s.peers.filter((p) => p.source !== 'inbound').map((p) => p.peer);

const TARGETS = {
  TargetNumberOfRootPeers: 3,
  TargetNumberOfKnownPeers: 8,
  TargetNumberOfEstablishedPeers: 6,
  TargetNumberOfActivePeers: 4,
  TargetNumberOfKnownBigLedgerPeers: 2,
  TargetNumberOfEstablishedBigLedgerPeers: 2,
  TargetNumberOfActiveBigLedgerPeers: 1,
  PeerSharing: true,
};

describe('spo run with bootstrap peers (on loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spo-run-bootstrap-'));
  const topologyFile = join(dir, 'topology.json');
  let boot: Proc;
  let trusted: Proc;
  let untrusted: Proc;
  let ledgers: Proc[] = [];
  let node: Proc;
  const port = { boot: 0, trusted: 0, untrusted: 0, silent: 0, publicRoot: 0, decoy: 0, ledgers: [] as number[] };
  // the decoy: only ever named by peer sharing; counts the connections it gets
  let decoy: Server | undefined;
  let decoyConnections = 0;
  let D = '';
  let B = '';
  let B2 = '';
  let T = '';
  let U = '';
  let L: string[] = [];

  const topology = (useLedgerAfterSlot: number): string =>
    JSON.stringify({
      localRoots: [
        {
          accessPoints: [{ address: '127.0.0.1', port: port.trusted }],
          advertise: false,
          trustable: true,
          hotValency: 1,
        },
        {
          accessPoints: [{ address: '127.0.0.1', port: port.untrusted }],
          advertise: false,
          trustable: false,
          hotValency: 1,
        },
      ],
      publicRoots: [{ accessPoints: [{ address: '127.0.0.1', port: port.publicRoot }], advertise: false }],
      bootstrapPeers: [
        { address: '127.0.0.1', port: port.boot },
        { address: '127.0.0.1', port: port.silent },
      ],
      useLedgerAfterSlot,
    });

  const serve = (name: string, blockInterval: string, extra: string[] = []): Proc =>
    new Proc(name, [
      'serve',
      '--port',
      '0',
      '--magic',
      String(MAGIC),
      '--block-interval',
      blockInterval,
      '--json',
      '--peers',
      join(dir, 'shared-peers.txt'),
      ...extra,
    ]);
  const listeningPort = async (p: Proc): Promise<number> =>
    Number(((await p.until('listening', (l) => l.event === 'listening')) as Record<string, unknown>).port);

  beforeAll(async () => {
    const d = createServer((socket) => {
      decoyConnections++;
      socket.destroy();
    });
    decoy = d;
    await new Promise<void>((r) => d.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    port.decoy = (d.address() as { port: number }).port;
    D = `127.0.0.1:${port.decoy}`;
    writeFileSync(join(dir, 'shared-peers.txt'), `${D}\n`);
    boot = serve('bootstrap', '1s');
    trusted = serve('trusted', '1s');
    untrusted = serve('untrusted', '0');
    ledgers = [serve('ledger0', '0'), serve('ledger1', '0')];
    const ports = await Promise.all([boot, trusted, untrusted, ...ledgers].map(listeningPort));
    [port.boot, port.trusted, port.untrusted] = ports as [number, number, number];
    port.ledgers = ports.slice(3);
    port.silent = await freePort();
    port.publicRoot = await freePort();
    B = `127.0.0.1:${port.boot}`;
    B2 = `127.0.0.1:${port.silent}`;
    T = `127.0.0.1:${port.trusted}`;
    U = `127.0.0.1:${port.untrusted}`;
    L = port.ledgers.map((p) => `127.0.0.1:${p}`);
    writeFileSync(
      join(dir, 'registry.json'),
      JSON.stringify({
        pools: port.ledgers.map((p, i) => ({
          id: `pool${i}`,
          stake: 0.5,
          relays: [{ kind: 'ipv4', host: '127.0.0.1', port: p }],
        })),
      }),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(TARGETS));
    writeFileSync(topologyFile, topology(FAR_SLOT));
    node = new Proc(
      'node',
      spoRunArgs({
        topology: topologyFile,
        config: join(dir, 'config.json'),
        magic: MAGIC,
        source: join(dir, 'registry.json'),
        allowPrivatePeers: true,
        snapshotInterval: '250ms',
        seed: 1,
        peerShareDelay: '200ms',
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([node, boot, trusted, untrusted, ...ledgers].map((p) => p?.stop()));
    await new Promise<void>((r) => (decoy ? decoy.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('while the ledger state is too old: only the bootstrap peers and the trustable local root, and it says so', async () => {
    const first = await node.until('the first ledgerState', isEvent('ledgerState'));
    expect(first).toMatchObject({
      judgement: 'tooOld',
      sensitive: true,
      useLedgerPeers: false,
      useLedgerAfterSlot: FAR_SLOT,
    });
    const synced = await node.until(
      'a snapshot with the bootstrap peer and the trustable local root hot, only trusted peers known',
      snapshotWhere(
        (l) =>
          l.ledger?.hasOnlyBootstrapPeers === true &&
          [B, T].every((p) => l.peers.some((r) => r.peer === p && r.temperature === 'hot')),
      ),
    );
    // the bootstrap peer that never answers was tried too
    await node.until('the silent bootstrap peer tried', (l) => l.event === 'failed' && peerOf(l) === B2);
    // three more headers (three seconds of the chain) with everything connected: time for a node
    // that broke the rule to have done so
    const from = node.lines.length;
    const tipAt = Number(synced.tip?.slot ?? 0);
    const later = await node.until(
      'three more headers',
      snapshotWhere((l) => Number(l.tip?.slot ?? 0) >= tipAt + 60 && l.ledger?.sensitive === true),
      { from },
    );

    expect(later.ledger).toMatchObject({
      ledgerStateJudgement: 'tooOld',
      useBootstrapPeers: true,
      sensitive: true,
      hasOnlyBootstrapPeers: true,
      bootstrapPeersDeadline: null,
      useLedgerPeers: false,
      useLedgerAfterSlot: FAR_SLOT,
      outboundConnectionsState: 'trusted',
      bootstrapPeers: { known: 2, established: 1, active: 1 },
    });
    expect(later.ledger?.tipSlotSeen).toBeGreaterThanOrEqual(Number(later.tip?.slot));
    expect(new Set(outbound(later))).toEqual(new Set([B, B2, T]));
    expect(later.peers.find((p) => p.peer === B)?.source).toBe('bootstrap');
    expect(later.peers.find((p) => p.peer === T)).toMatchObject({ source: 'local-root', temperature: 'hot' });

    // every line so far: no other peer touched (not the public root either), no snapshot with another peer
    const touched = new Set(node.lines.map(peerOf).filter((p) => p !== undefined));
    expect([...touched].every((p) => [B, B2, T].includes(p))).toBe(true);
    for (const s of node.lines.filter(isSnapshot)) expect(outbound(s).every((p) => [B, B2, T].includes(p))).toBe(true);
    // the far ends agree: the ledger relays and the untrusted local root saw no connection at all
    for (const l of ledgers) expect(l.lines.filter((x) => x.event === 'handshake')).toEqual([]);
    expect(untrusted.lines.filter((l) => l.event === 'handshake')).toEqual([]);
    expect(boot.lines.some((l) => l.event === 'handshake')).toBe(true);
    expect(trusted.lines.some((l) => l.event === 'handshake')).toBe(true);
    // three seconds with peers that offer the decoy and were share-eligible after 200 ms: never
    // asked (no answer told), nothing learnt
    expect(node.lines.filter((l) => l.event === 'peersReceived')).toEqual([]);
    expect(decoyConnections).toBe(0);

    // spo peers reads the same from the control socket beside the topology
    const peers = await runCli(['peers', '--topology', topologyFile, '--json']);
    expect(peers.code).toBe(0);
    const answered = JSON.parse(peers.stdout) as NodeSnapshot;
    expect(answered.ledger).toMatchObject({ sensitive: true, hasOnlyBootstrapPeers: true, useLedgerPeers: false });
    expect(outbound(answered).every((p) => [B, B2, T].includes(p))).toBe(true);
    // and its table says it in words
    const table = await runCli(['peers', '--topology', topologyFile]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('syncing: ledger state too old: bootstrap peers and trustable local roots only');
    expect(table.stdout).toContain(`ledger peers from slot ${FAR_SLOT.toLocaleString('en-US')}`);
  }, 90_000);

  it('once the tip passes useLedgerAfterSlot: ledger peers and every local root; the unreached bootstrap peer forgotten', async () => {
    // the slot: three headers above the tip seen so far
    const seen = node.lines.filter(isSnapshot).at(-1)?.ledger?.tipSlotSeen;
    expect(typeof seen).toBe('number');
    const slot = Number(seen) + 60;
    writeFileSync(topologyFile, topology(slot));
    const from = node.lines.length;
    node.kill('SIGHUP');
    await node.until('the topology re-read', (l) => l.event === 'localRoots' && l.reason === 'sighup', { from });
    const young = await node.until('the judgement young enough', isEvent('ledgerState'), { from });
    expect(young).toMatchObject({
      judgement: 'youngEnough',
      sensitive: false,
      useLedgerPeers: true,
      useLedgerAfterSlot: slot,
    });
    expect(Number(young.tipSlotSeen)).toBeGreaterThanOrEqual(slot);
    const leftAt = node.lines.indexOf(young);
    // up to the change: still only the trusted peers
    const before = node.lines.slice(0, leftAt);
    expect(before.map(peerOf).every((p) => p === undefined || [B, B2, T].includes(p))).toBe(true);
    for (const s of before.filter(isSnapshot)) {
      expect(outbound(s).every((p) => [B, B2, T].includes(p))).toBe(true);
      expect(s.ledger?.sensitive).toBe(true);
    }

    // after it: the untrusted local root and a ledger relay connected, as the far ends confirm
    await node.until(
      'the untrusted local root promoted',
      (l) => l.event === 'promoted' && peerOf(l) === U && (l as Ev<'promoted'>).source === 'local-root',
      { from: leftAt },
    );
    const ledgerPromotion = (await node.until(
      'a ledger relay promoted',
      (l) => l.event === 'promoted' && L.includes(peerOf(l) ?? ''),
      { from: leftAt },
    )) as Ev<'promoted'>;
    expect(['ledger', 'big-ledger']).toContain(ledgerPromotion.source);
    const at = L.indexOf(ledgerPromotion.peer);
    await (ledgers[at] as Proc).until('the node at the ledger relay', (l) => l.event === 'handshake');
    await untrusted.until('the node at the untrusted local root', (l) => l.event === 'handshake');

    const after = await node.until(
      'a snapshot with the untrusted local root and a ledger relay established',
      snapshotWhere(
        (l) =>
          l.peers.some((r) => r.peer === U && (r.temperature === 'warm' || r.temperature === 'hot')) &&
          l.peers.some((r) => L.includes(r.peer) && (r.temperature === 'warm' || r.temperature === 'hot')),
      ),
      { from: leftAt },
    );
    expect(after.ledger).toMatchObject({
      ledgerStateJudgement: 'youngEnough',
      sensitive: false,
      useLedgerPeers: true,
      useLedgerAfterSlot: slot,
    });
    // the bootstrap peer it never reached is forgotten on leaving; the connected one is kept
    expect(outbound(after)).not.toContain(B2);
    expect(after.ledger?.bootstrapPeers.known).toBe(after.ledger?.bootstrapPeers.established);
    // and it was not dialled again
    expect(node.lines.slice(leftAt).some((l) => peerOf(l) === B2)).toBe(false);

    // peer sharing now: the decoy is learnt (and, below the targets, dialled)
    const learnt = await node.until(
      'the decoy learnt by peer sharing',
      snapshotWhere((l) => l.peers.some((r) => r.peer === D && r.source === 'peer-share')),
      { from: leftAt },
    );
    expect(learnt.ledger?.sensitive).toBe(false);
    // asked only after the change
    const asked = node.lines.findIndex((l) => l.event === 'peersReceived');
    expect(asked).toBeGreaterThan(leftAt);

    const peers = await runCli(['peers', '--topology', topologyFile, '--json']);
    expect(peers.code).toBe(0);
    expect((JSON.parse(peers.stdout) as NodeSnapshot).ledger).toMatchObject({ sensitive: false, useLedgerPeers: true });
    expect((await runCli(['peers', '--topology', topologyFile])).stdout).not.toContain('ledger state too old');

    // SIGTERM: a clean stop within 5 s
    node.kill('SIGTERM');
    const end = await node.done;
    expect(end.code).toBe(0);
    expect(node.lines.at(-1)).toMatchObject({ event: 'stopped' });
  }, 90_000);
});
