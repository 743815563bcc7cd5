/**
 * `spo run` end to end on loopback, with real processes: three relays (bin/run.js) whose topologies
 * name each other as local roots, two `spo serve` producers (one deliberately slow) listed in a
 * registry file as their ledger peers (both synthetic chains are the same chain: the slow producer
 * only ever delivers a header after the fast one). Everything is synchronised on the JSON lines the processes
 * print (events and snapshots), never on sleeps; every process is stopped by the test, and the
 * relays must end by themselves within 5 s of SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, unlabelledValue } from '../../src/metrics/prometheus-text.js';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import { runCli } from '../lib/cli.js';
import { JsonLinesProcess } from '../lib/json-lines.js';
import { freePort } from '../lib/ports.js';
import { spoRunArgs } from '../lib/run-args.js';

const MAGIC = 42;

type Line = (NodeEvent | NodeSnapshot | Record<string, unknown>) & { event: string };

/** A running bin/run.js printing the node's (or the producer's) JSON lines. */
class Proc extends JsonLinesProcess<Line> {
  constructor(name: string, args: string[]) {
    super(name, args, { timeoutMs: 170_000, waitTimeoutMs: 55_000 });
  }

  snapshots(): NodeSnapshot[] {
    return this.lines.filter(isSnapshot);
  }
}

const isSnapshot = (l: Line): l is NodeSnapshot => l.event === 'snapshot';
/** For the waits of the 90 s tests. */
const LONG_WAIT = { timeoutMs: 85_000 };

/**
 * Targets the loopback network can meet: the two other relays (local roots), both producers as big
 * ledger peers, both hot. The known big ledger target is above the two there are, so that each
 * request draws several (a request for one draws a pool by stake, often the one already known, and
 * the governor's back-off after a fruitless request doubles: seconds to tens of seconds).
 */
const PRODUCERS = 2;
const TARGETS = {
  TargetNumberOfRootPeers: 2,
  TargetNumberOfKnownPeers: 2,
  TargetNumberOfEstablishedPeers: 2,
  TargetNumberOfActivePeers: 2,
  TargetNumberOfKnownBigLedgerPeers: 4,
  TargetNumberOfEstablishedBigLedgerPeers: 2,
  TargetNumberOfActiveBigLedgerPeers: 2,
};
/** Churn sped up, so a cycle runs within the test (the node's ~1 h otherwise). */
const CHURN_INTERVAL = '20s';

function topology(peers: number[]): string {
  return JSON.stringify({
    localRoots: [
      {
        accessPoints: peers.map((port) => ({ address: '127.0.0.1', port })),
        advertise: false,
        trustable: true,
        hotValency: peers.length,
      },
    ],
    publicRoots: [],
    useLedgerAfterSlot: 0,
  });
}

describe('spo run (three relays, two producers, on loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spo-run-e2e-'));
  const producers: Proc[] = [];
  const relays: Proc[] = [];
  let relayPorts: number[] = [];
  let producerPorts: number[] = [];

  beforeAll(async () => {
    // the producers: one answers at once, one 2 s late (two blocks: first even on a loaded machine)
    for (const [i, fault] of [[0, undefined] as const, [1, 'slow=2000'] as const]) {
      const p = new Proc(`producer${i}`, [
        'serve',
        '--port',
        '0',
        '--magic',
        String(MAGIC),
        '--block-interval',
        '1s',
        '--json',
        ...(fault ? ['--fault', fault] : []),
      ]);
      producers.push(p);
    }
    producerPorts = await Promise.all(
      producers.map(async (p) =>
        Number(((await p.until('listening', (l) => l.event === 'listening')) as Record<string, unknown>).port),
      ),
    );
    writeFileSync(
      join(dir, 'registry.json'),
      JSON.stringify({
        pools: producerPorts.map((port, i) => ({
          id: `pool${i}`,
          stake: 0.5,
          relays: [{ kind: 'ipv4', host: '127.0.0.1', port }],
        })),
      }),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(TARGETS));
    relayPorts = [await freePort(), await freePort(), await freePort()];
    relayPorts.forEach((_port, i) => {
      writeFileSync(join(dir, `topology${i}.json`), topology(relayPorts.filter((_, j) => j !== i)));
    });
    relayPorts.forEach((port, i) => {
      relays.push(
        new Proc(
          `relay${i}`,
          spoRunArgs({
            topology: join(dir, `topology${i}.json`),
            config: join(dir, 'config.json'),
            port,
            magic: MAGIC,
            source: join(dir, 'registry.json'),
            allowPrivatePeers: true,
            metricsPort: 0,
            snapshotInterval: '500ms',
            seed: i + 1,
            churnInterval: CHURN_INTERVAL,
          }),
        ),
      );
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...relays, ...producers].map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, listens where told and shows the local roots', async () => {
    for (const [i, r] of relays.entries()) {
      const started = await r.until('started', (l) => l.event === 'started');
      expect(started).toMatchObject({ listening: [`127.0.0.1:${relayPorts[i]}`], magic: MAGIC, role: 'relay' });
      const roots = await r.until('local roots', (l) => l.event === 'localRoots');
      expect(roots).toMatchObject({ groups: 1, peers: 2, reason: 'start' });
    }
  }, 60_000);

  it('makes every local root hot, reaches its targets and never exceeds them', async () => {
    for (const [i, r] of relays.entries()) {
      const s = await r.until(
        'local roots hot and the targets reached',
        (l): l is NodeSnapshot =>
          isSnapshot(l) &&
          l.counters.peerSelection?.localRoots?.active === 2 &&
          l.counters.peerSelection.known === TARGETS.TargetNumberOfKnownPeers &&
          l.counters.peerSelection.established === TARGETS.TargetNumberOfEstablishedPeers &&
          l.counters.peerSelection.active === TARGETS.TargetNumberOfActivePeers &&
          l.counters.peerSelection.bigLedger?.known === PRODUCERS &&
          l.counters.peerSelection.bigLedger.established === TARGETS.TargetNumberOfEstablishedBigLedgerPeers &&
          l.counters.peerSelection.bigLedger.active === TARGETS.TargetNumberOfActiveBigLedgerPeers &&
          // keep-alive measured every hot peer (its first round trip is at once)
          l.peers.every((p) => p.temperature !== 'hot' || p.rttMs !== undefined),
        LONG_WAIT,
      );
      const hot = s.peers.filter((p) => p.source === 'local-root' && p.temperature === 'hot').map((p) => p.peer);
      expect(hot.sort()).toEqual(
        relayPorts
          .filter((_, j) => j !== i)
          .map((port) => `127.0.0.1:${port}`)
          .sort(),
      );
      for (const p of s.peers.filter((x) => x.temperature === 'hot')) expect(p.rttMs).toBeGreaterThanOrEqual(0);
    }
    for (const r of relays)
      for (const s of r.snapshots()) {
        const ps = s.counters.peerSelection ?? {};
        expect(ps.known ?? 0).toBeLessThanOrEqual(TARGETS.TargetNumberOfKnownPeers);
        expect(ps.established ?? 0).toBeLessThanOrEqual(TARGETS.TargetNumberOfEstablishedPeers);
        expect(ps.active ?? 0).toBeLessThanOrEqual(TARGETS.TargetNumberOfActivePeers);
        expect(ps.bigLedger?.known ?? 0).toBeLessThanOrEqual(TARGETS.TargetNumberOfKnownBigLedgerPeers);
        expect(ps.bigLedger?.established ?? 0).toBeLessThanOrEqual(TARGETS.TargetNumberOfEstablishedBigLedgerPeers);
        expect(ps.bigLedger?.active ?? 0).toBeLessThanOrEqual(TARGETS.TargetNumberOfActiveBigLedgerPeers);
      }
  }, 90_000);

  it('serves its metrics under the node names, agreeing with its snapshot', async () => {
    const r = relays[0] as Proc;
    const started = (await r.until('started', (l) => l.event === 'started')) as { metrics?: string };
    expect(started.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // the snapshot taken after the scrape says the same, as long as nothing moved in between
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = r.snapshots().length;
      const res = await fetch(started.metrics as string);
      expect(res.status).toBe(200);
      const page = parsePrometheusText(await res.text());
      const s = await r.until('a snapshot after the scrape', isSnapshot, { from: r.lines.length });
      const prior = r.snapshots()[before - 1];
      const same = (a: NodeSnapshot | undefined, b: NodeSnapshot): boolean =>
        a !== undefined && JSON.stringify(a.counters.peerSelection) === JSON.stringify(b.counters.peerSelection);
      if (!same(prior, s)) continue;
      const ps = s.counters.peerSelection ?? {};
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_ActivePeers_int')).toBe(ps.active);
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_EstablishedPeers_int')).toBe(ps.established);
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_ActiveLocalRootPeers_int')).toBe(
        ps.localRoots?.active,
      );
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_ActiveBigLedgerPeers_int')).toBe(
        ps.bigLedger?.active,
      );
      expect(unlabelledValue(page, 'cardano_node_metrics_connectionManager_outboundConns_int')).toBeGreaterThan(0);
      // the non-root and bootstrap groups too (no bootstrap peers in these topologies: 0, as a node says)
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_KnownNonRootPeers_int')).toBe(ps.nonRoot?.known);
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_ActiveNonRootPeers_int')).toBe(
        ps.nonRoot?.active,
      );
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_KnownBootstrapPeers_int')).toBe(0);
      return;
    }
    throw new Error('the counters never held still across a scrape');
  }, 60_000);

  it('relays every header to every relay, credited to the peer that delivered it first', async () => {
    type Header = Extract<NodeEvent, { event: 'header' }>;
    const isHeader = (l: Line): l is Header => l.event === 'header';
    const firsts = await Promise.all(relays.map((r) => r.until('a header', isHeader, LONG_WAIT)));
    const from = Math.max(...firsts.map((h) => h.blockNo));
    const to = from + 5;
    await Promise.all(relays.map((r) => r.until(`header #${to}`, (l) => isHeader(l) && l.blockNo >= to, LONG_WAIT)));
    const byRelay = relays.map((r) => {
      const m = new Map<number, string>();
      for (const l of r.lines) if (isHeader(l)) m.set(l.blockNo, l.hash);
      return m;
    });
    for (let n = from; n <= to; n++) {
      const hashes = byRelay.map((m) => m.get(n));
      expect(
        hashes.every((h) => h !== undefined && h === hashes[0]),
        `block ${n}: ${hashes.join(' ')}`,
      ).toBe(true);
    }
    // every relay's tip is a block the others hold too, and the slow producer never came first
    const slow = `127.0.0.1:${producerPorts[1]}`;
    for (const r of relays) {
      const s = await r.until('a snapshot with a tip', (l): l is NodeSnapshot => isSnapshot(l) && l.tip !== undefined);
      expect(s.counters.tip?.blockNo).toBe(s.tip?.blockNo);
      for (const l of r.lines) if (isHeader(l)) expect(l.from).not.toBe(slow);
    }
  }, 90_000);

  it('churn demotes first the hot producer that never delivers headers first', async () => {
    const slow = `127.0.0.1:${producerPorts[1]}`;
    const fast = `127.0.0.1:${producerPorts[0]}`;
    const decrease = (l: Line): boolean =>
      l.event === 'churn' &&
      (l as { action: string }).action === 'DecreasedActiveBigLedgerPeers' &&
      (l as { count: number }).count >= 1;
    for (const r of relays) {
      // the first churn step that lowered the active big ledger peers while both producers were hot
      // (the last snapshot before it says so); the hot producer demoted just before it is its pick
      let from = 0;
      for (;;) {
        const step = await r.until('a churn step lowering the active big ledger peers', decrease, {
          ...LONG_WAIT,
          from,
        });
        const at = r.lines.indexOf(step, from);
        from = at + 1;
        const before = r.lines.slice(0, at);
        const snap = before.filter(isSnapshot).at(-1);
        const hot = new Set(snap?.peers.filter((p) => p.temperature === 'hot').map((p) => p.peer));
        if (!hot.has(slow) || !hot.has(fast)) continue;
        const demoted = before
          .filter(
            (l): l is Extract<NodeEvent, { event: 'demoted' }> =>
              l.event === 'demoted' && (l as { from: string }).from === 'hot',
          )
          .map((l) => l.peer)
          .filter((p) => p === slow || p === fast);
        expect(demoted.at(-1), `${r.name}: the hot producer demoted by the churn step`).toBe(slow);
        break;
      }
    }
  }, 90_000);

  it("publishes the churn's figures under the node names once churn ran, agreeing with its snapshot", async () => {
    const r = relays[0] as Proc;
    const started = (await r.until('started', (l) => l.event === 'started')) as { metrics?: string };
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = r.snapshots().length;
      const page = parsePrometheusText(await (await fetch(started.metrics as string)).text());
      const s = await r.until('a snapshot after the scrape', isSnapshot, { from: r.lines.length });
      const prior = r.snapshots()[before - 1];
      if (JSON.stringify(prior?.counters.peerSelection) !== JSON.stringify(s.counters.peerSelection)) continue;
      const ps = s.counters.peerSelection ?? {};
      // the previous test saw this step; its value is the change of the last one (0 or negative)
      const change = ps.churn?.decreasedActiveBigLedgerPeers;
      expect(change).toBeLessThanOrEqual(0);
      expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_churn_DecreasedActiveBigLedgerPeers_int')).toBe(
        change,
      );
      const durations = Object.entries(ps.churnDurationS ?? {});
      expect(durations.length).toBeGreaterThan(0);
      for (const [key, seconds] of durations) {
        const action = key.charAt(0).toUpperCase() + key.slice(1);
        expect(unlabelledValue(page, `cardano_node_metrics_peerSelection_churn${action}_duration_real`), key).toBe(
          seconds,
        );
      }
      return;
    }
    throw new Error('the counters never held still across a scrape');
  }, 60_000);

  it('spo peers --json reads the same table through the control socket', async () => {
    const r = relays[1] as Proc;
    const started = (await r.until('started', (l) => l.event === 'started')) as { control?: string };
    expect(started.control).toBe(`${join(dir, 'topology1.json')}.spo.sock`);
    const res = await runCli(['peers', '--topology', join(dir, 'topology1.json'), '--json'], { timeoutMs: 20_000 });
    expect(res.code, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as NodeSnapshot;
    expect(s.event).toBe('snapshot');
    expect(s.pid).toBe(r.pid);
    expect(s.listening).toEqual([`127.0.0.1:${relayPorts[1]}`]);
    const hot = s.peers.filter((p) => p.source === 'local-root' && p.temperature === 'hot').map((p) => p.peer);
    expect(hot.sort()).toEqual([`127.0.0.1:${relayPorts[0]}`, `127.0.0.1:${relayPorts[2]}`].sort());
    expect(s.counters.peerSelection?.localRoots?.active).toBe(2);
  }, 60_000);

  it('SIGHUP re-reads the topology and changes the local roots live', async () => {
    const r = relays[0] as Proc;
    const keep = relayPorts[1] as number;
    const drop = relayPorts[2] as number;
    writeFileSync(join(dir, 'topology0.json'), topology([keep]));
    const from = r.lines.length;
    r.kill('SIGHUP');
    const ev = await r.until('localRoots after SIGHUP', (l) => l.event === 'localRoots', { from });
    expect(ev).toMatchObject({ groups: 1, peers: 1, reason: 'sighup' });
    const s = await r.until(
      'the dropped peer no longer a local root',
      (l): l is NodeSnapshot =>
        isSnapshot(l) &&
        l.counters.peerSelection?.localRoots?.known === 1 &&
        l.peers.some((p) => p.peer === `127.0.0.1:${keep}` && p.source === 'local-root' && p.temperature === 'hot'),
      { from },
    );
    // no longer in a local-root group (a former local root keeps 'local-root' as where it was learnt)
    expect(s.peers.find((p) => p.peer === `127.0.0.1:${drop}`)?.group).toBeUndefined();
    expect(s.peers.filter((p) => p.group !== undefined).map((p) => p.peer)).toEqual([`127.0.0.1:${keep}`]);
    // a broken file keeps the old topology running and says why
    writeFileSync(join(dir, 'topology0.json'), '{"localRoots": [ {"accessPoints": [{"address": "0.0.0.0", "port": 1}]');
    const from2 = r.lines.length;
    r.kill('SIGHUP');
    const w = await r.until('a warning about the broken file', (l) => l.event === 'warning', { from: from2 });
    expect(String((w as { message: string }).message)).toMatch(/old topology stays in use/);
  }, 60_000);

  it('SIGTERM ends every relay within 5 s with exit 0, its ports free again', async () => {
    const started = performance.now();
    for (const r of relays) r.kill('SIGTERM');
    const results = await Promise.all(relays.map((r) => r.done));
    const ms = performance.now() - started;
    for (const [i, res] of results.entries()) {
      expect(res.code, `relay${i} stderr: ${res.stderr}`).toBe(0);
      expect((relays[i] as Proc).lines.at(-1)).toMatchObject({ event: 'stopped' });
    }
    expect(ms).toBeLessThan(5_000);
    // nothing left listening: each port can be listened on again at once
    for (const port of relayPorts) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen({ host: '127.0.0.1', port }, () => resolve());
      });
      await new Promise<void>((r) => s.close(() => r()));
    }
    for (const p of producers) p.kill('SIGTERM');
    for (const res of await Promise.all(producers.map((p) => p.done))) expect(res.code).toBe(0);
  }, 30_000);
});
