/**
 * A local root given by name is looked up again when its TTL runs out (issue 13), through `spo run`
 * with real processes: a real dnsmasq (test/dns/dnsmasq.ts) answers `relay.test` with 127.0.0.2,
 * where a `spo serve` producer X listens; the record is changed to 127.0.0.3 (producer Y, same
 * port), and spo run, with no SIGHUP, moves its local root to Y once the TTL has run out, and X
 * leaves the group. The record's TTL is 1 s; the node clips a TTL to at least 60 s (`minTTL`), so the
 * change is seen a minute after the first lookup, never before.
 *
 * Only loopback: 127.0.0.2 and 127.0.0.3 are loopback addresses (Linux routes 127/8 to lo).
 * Synchronised on the JSON lines spo run prints and on dnsmasq's log, never on sleeps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { JsonLinesProcess } from '../lib/json-lines.js';
import { spoRunArgs } from '../lib/run-args.js';

const MAGIC = 42;
const NAME = 'relay.test';
/** The node's smallest TTL (src/driver/root-peers.ts MIN_TTL_MS). */
const MIN_TTL_MS = 60_000;

type Line = (NodeEvent | NodeSnapshot | Record<string, unknown>) & { event: string };
type LocalRoots = Extract<NodeEvent, { event: 'localRoots' }>;
const isSnapshot = (l: Line): l is NodeSnapshot => l.event === 'snapshot';
const isLocalRoots = (l: Line): l is LocalRoots => l.event === 'localRoots';

describe('spo run: a local root by name follows its DNS record after the TTL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spo-run-dns-'));
  const procs: JsonLinesProcess[] = [];
  let dns: Dnsmasq | undefined;
  let port = 0;

  const serve = (host: string, p: number): JsonLinesProcess => {
    const proc = new JsonLinesProcess(`producer ${host}`, [
      'serve',
      '--host',
      host,
      '--port',
      String(p),
      '--magic',
      String(MAGIC),
      '--json',
    ]);
    procs.push(proc);
    return proc;
  };

  beforeAll(async () => {
    // X on a free port of 127.0.0.2, Y on the same port of 127.0.0.3 (taken there: try again)
    for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
      const x = serve('127.0.0.2', 0);
      const p = Number((await x.until('listening', (l) => l.event === 'listening')).port);
      const y = serve('127.0.0.3', p);
      const first = await Promise.race([
        y.until('listening', (l) => l.event === 'listening').then(() => 'listening' as const),
        y.done.then(() => 'ended' as const),
      ]);
      if (first === 'listening') port = p;
      else await x.stop();
    }
    expect(port, 'a port free on both 127.0.0.2 and 127.0.0.3').toBeGreaterThan(0);
    dns = await startDnsmasq({ hosts: [`127.0.0.2 ${NAME}`], localTtl: 1 });
    writeFileSync(
      join(dir, 'topology.json'),
      JSON.stringify({
        localRoots: [{ accessPoints: [{ address: NAME, port }], advertise: false, trustable: true, hotValency: 1 }],
        publicRoots: [],
        useLedgerAfterSlot: -1,
      }),
    );
    writeFileSync(join(dir, 'registry.json'), JSON.stringify({ pools: [] }));
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await dns?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects to the new address once the TTL ran out, without a SIGHUP; the old one leaves the local roots', async () => {
    const x = `127.0.0.2:${port}`;
    const y = `127.0.0.3:${port}`;
    const node = new JsonLinesProcess<Line>(
      'spo run',
      spoRunArgs({
        topology: join(dir, 'topology.json'),
        dnsServer: (dns as Dnsmasq).server,
        magic: MAGIC,
        source: join(dir, 'registry.json'),
        allowEmpty: true,
        snapshotInterval: '500ms',
        seed: 1,
      }),
      { waitTimeoutMs: 30_000 },
    );
    procs.push(node as JsonLinesProcess);
    const resolved = await node.until(
      'the name resolved to X',
      (l): l is LocalRoots => isLocalRoots(l) && l.reason === 'dns' && l.peers === 1,
    );
    const first = await node.until(
      'X hot as the local root relay.test',
      (l): l is NodeSnapshot =>
        isSnapshot(l) && l.peers.some((p) => p.peer === x && p.temperature === 'hot' && p.group === 0),
    );
    expect(first.peers.find((p) => p.peer === x)).toMatchObject({ name: NAME, source: 'local-root' });

    await (dns as Dnsmasq).setHosts([`127.0.0.3 ${NAME}`]);
    const from = node.lines.length;
    const moved = await node.until(
      'the local roots changed by DNS',
      (l): l is LocalRoots => isLocalRoots(l) && l.reason === 'dns',
      { from, timeoutMs: MIN_TTL_MS + 30_000 },
    );
    expect(moved).toMatchObject({ groups: 1, peers: 1 });
    // looked up again after the clipped TTL, not before (timers never run early; the margin is for
    // the wall clock the event times are read from, which NTP may slew)
    expect(Date.parse(moved.time) - Date.parse(resolved.time)).toBeGreaterThanOrEqual(MIN_TTL_MS - 100);
    const s = await node.until(
      'Y hot as the local root, X in no group',
      (l): l is NodeSnapshot =>
        isSnapshot(l) && l.peers.some((p) => p.peer === y && p.temperature === 'hot' && p.group === 0),
      { from: node.lines.indexOf(moved) },
    );
    expect(s.peers.find((p) => p.peer === y)).toMatchObject({ name: NAME, source: 'local-root' });
    expect(s.peers.find((p) => p.peer === x)?.group).toBeUndefined();
    expect(s.peers.filter((p) => p.group !== undefined).map((p) => p.peer)).toEqual([y]);
    expect(s.counters.peerSelection?.localRoots).toMatchObject({ known: 1, active: 1 });
    // nothing but the TTL moved it: no SIGHUP, no re-read of the topology
    expect(node.lines.filter(isLocalRoots).map((l) => l.reason)).not.toContain('sighup');

    node.kill('SIGTERM');
    const r = await node.done;
    expect(r.code, r.stderr).toBe(0);
  }, 150_000);
});
